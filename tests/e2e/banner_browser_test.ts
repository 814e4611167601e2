/**
 * The owner's banner names the bot and shows the time in the viewer's own
 * zone (server-rendered in the stored zone first), and follows the action
 * while the page stays open: it appears, then turns "called off", without a
 * reload, within 10 seconds; the owner's instance list open beside it follows
 * the cancel too.
 */
import assert from "node:assert/strict";
import {
  expectAccessible,
  fleet,
  hydrated,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { formatDateTime } from "@/lib/format.ts";

/** Well under any poll interval: what shows by then came from the first round after 10 s. */
const SOON = 3_000;

Deno.test({
  name:
    "browser in Kolkata: the banner shows the viewer's time, appears and is called off on its own",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    const id = f.ids["Maya's support bot"];
    const at = new Date(Date.now() + 3 * 3_600_000 + 7 * 60_000);
    at.setUTCSeconds(0, 0);
    await withBrowser(f.app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, f.maya.cookie, {
        timezoneId: "Asia/Kolkata",
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.clock.install();
      await page.goto(`${origin}/claw/${id}`);
      await hydrated(page, '[data-testid="workspace-banner"][data-enhanced]');
      assert.equal(await page.locator(".banner").count(), 0);
      await expectAccessible(page, "the workspace page");

      const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
        actionType: "version_change",
        imageTag: "2026.11.2",
        instanceIds: [id],
        scheduledAt: at.toISOString(),
        noticeLeadHours: 24,
      });
      assert.equal(res.status, 201);
      const { id: actionId } = await res.json();

      // The server writes it in Maya's stored zone.
      const html = await (await f.app.request(`/claw/${id}`, {
        headers: { cookie: f.maya.cookie },
      })).text();
      assert.ok(
        html.includes(formatDateTime(at, "Europe/Stockholm")),
        "server-rendered in the stored zone (CET)",
      );

      // The open page finds out by itself within 10 s, and says it in the browser's zone.
      await page.clock.fastForward(10_000);
      const banner = page.locator(".banner");
      // The page's clock runs on at the real pace too: a short wait proves
      // the 10 s, not a later round.
      await banner.waitFor({ timeout: SOON });
      const local = formatDateTime(at, "Asia/Kolkata");
      assert.match(local, / IST$/);
      const said = (await banner.innerText()).replace(/\s+/g, " ").trim();
      assert.ok(
        said.startsWith(
          `Your bot Maya's support bot will upgrade to OpenClaw 1.9.0 at ${local} (in 3 h `,
        ),
        said,
      );
      assert.match(said, /\(in 3 h \d+ min\)\. Chat may be unavailable/);
      await expectAccessible(page, "the workspace page with its banner");

      // The owner's list, open in another tab, shows it coming.
      const home = await ctx.newPage();
      await home.clock.install();
      await home.goto(`${origin}/`);
      await hydrated(home, "time");
      const card = home.locator(`li[data-instance="${id}"] .card-note`);
      await card.filter({ hasText: /^Upgrade to OpenClaw 1\.9\.0 at / })
        .waitFor();

      // The notice is out; then the admin calls it off.
      await f.app.api("POST", "/api/admin/notices/sweep");
      const cancel = await f.app.api(
        "POST",
        `/api/admin/scheduled-actions/${actionId}/cancel`,
      );
      assert.equal(cancel.status, 200);
      await page.clock.fastForward(10_000);
      await page.locator(".banner-info").waitFor({ timeout: SOON });
      // The list follows without a reload, within 10 s too.
      await home.clock.fastForward(10_000);
      await card.filter({
        hasText: /^The upgrade planned for .* was called off$/,
      })
        .waitFor({ timeout: SOON });
      await expectAccessible(home, "the owner's list after the cancel");
      await home.close();
      assert.equal(
        (await page.locator(".banner").innerText()).replace(/\s+/g, " ")
          .trim(),
        `The upgrade to OpenClaw 1.9.0 of your bot Maya's support bot planned for ${local} has been called off. Nothing changes.`,
      );

      // The home page's card says the same, in this zone too.
      await page.goto(`${origin}/`);
      await hydrated(page, "time");
      await page.locator(".card-note").filter({ hasText: " IST" }).waitFor();
      assert.match(
        await page.locator(".card-note").innerText(),
        /^The upgrade planned for .* IST was called off$/,
      );
      await expectAccessible(page, "the owner's home page");
      assert.deepEqual(errors, []);
    });
  },
});
