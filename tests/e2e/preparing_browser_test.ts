/**
 * A large action's page while it is written in the background, on a phone:
 * the write's progress and what it means, a cancel and nothing else to do;
 * once written, the page turns into the scheduled action on its own. Before
 * it, the review of a selection that large says it will be written so.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import {
  expectAccessible,
  hydrated,
  reviewReady,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { putUser } from "@/lib/kv/users.ts";
import { input, seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { runPreparedWrite } from "@/lib/scheduler/prepare.ts";

Deno.test({
  name:
    "browser: a preparing action at 375 px shows its write, offers only a cancel, and turns scheduled on its own",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const now = Date.now();
    const app = await createTestApp({
      config: { scheduleMinAheadSeconds: 0, scheduleInlineTargets: 50 },
    });
    await seedCatalog(app.kv);
    const admin = await app.signIn({ admin: true, name: "Ada" });
    const fleet = await seedInstances(app.kv, 120);
    let holder = "";
    const { id } = await scheduleAction(
      {
        kv: app.kv,
        config: { scheduleMinAheadSeconds: 0, scheduleInlineTargets: 50 },
        now: Date.now,
        startBackgroundWrite: (_, h) => {
          holder = h;
        },
      },
      input(fleet.map((i) => i.id), now, {
        scheduledAt: new Date(now + 48 * 3_600_000).toISOString(),
      }),
      admin.user,
    );

    await withBrowser(app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, admin.cookie, {
        width: 375,
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin/actions/${id}`);
      await hydrated(page, ".action-live[data-enhanced]");
      const heading = page.getByRole("heading", { level: 1 });
      assert.equal(await heading.locator(".pill").innerText(), "preparing");
      const writing = page.getByTestId("preparing");
      assert.match(await writing.innerText(), /Writing targets: 0 of 120/);
      assert.match(
        await writing.innerText(),
        /Nothing is sent and nothing is applied until the whole action is written\./,
      );
      await page.getByRole("img", { name: "0 of 120 instances written" })
        .waitFor();
      assert.ok(await page.getByText("Cancel action").first().isVisible());
      assert.equal(
        await page.getByRole("button", { name: "Move" }).count(),
        0,
      );
      assert.ok(
        await page.evaluate(() =>
          document.documentElement.scrollWidth <= globalThis.innerWidth
        ),
        "no sideways scrolling",
      );
      await expectAccessible(page, "a preparing action at 375 px");

      // Gone once the page is loaded anew, with the parts the server renders.
      await page.evaluate(() => {
        document.body.dataset.before = "written";
      });
      assert.equal(
        await runPreparedWrite({ kv: app.kv, now: Date.now }, id, holder),
        "done",
      );
      // The page polls while the action is written, and reloads once it is.
      await heading.locator(".pill-scheduled").waitFor({ timeout: 20_000 });
      assert.equal(await page.getByTestId("preparing").count(), 0);
      assert.equal(
        await page.evaluate(() => document.body.dataset.before ?? null),
        null,
      );
      await page.getByRole("button", { name: "Move" }).waitFor();

      // Another one, cancelled while it is written: the page says so.
      const later = await seedInstances(app.kv, 60);
      const other = await scheduleAction(
        {
          kv: app.kv,
          config: { scheduleMinAheadSeconds: 0, scheduleInlineTargets: 50 },
          now: Date.now,
          startBackgroundWrite: () => {},
        },
        input(later.map((i) => i.id), now, {
          scheduledAt: new Date(now + 48 * 3_600_000).toISOString(),
        }),
        admin.user,
      );
      await page.goto(`${origin}/admin/actions/${other.id}`);
      await hydrated(page, ".action-live[data-enhanced]");
      await heading.locator(".pill-preparing").waitFor();
      await page.getByRole("button", { name: "Cancel action" }).click();
      const confirm = page.getByRole("dialog", { name: "Cancel action" });
      await confirm.getByRole("button", { name: "Cancel action" }).click();
      await heading.locator(".pill-cancelled").waitFor();
      await page.getByText("Action cancelled.").first().waitFor();
      assert.equal(await page.getByTestId("preparing").count(), 0);
      assert.deepEqual(errors, []);
      await ctx.close();
    });
  },
});

Deno.test({
  name:
    "browser: 'Schedule for all 120 matching' over the inline limit reviews, at 375 px, with a warning that it is written in the background first",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp({
      config: { scheduleMinAheadSeconds: 0, scheduleInlineTargets: 50 },
    });
    await seedCatalog(app.kv);
    const admin = await app.signIn({ admin: true, name: "Ada" });
    const fleet = await seedInstances(app.kv, 120, { prefix: "big" });
    for (const owner of new Set(fleet.map((i) => i.ownerId))) {
      await putUser(app.kv, owner, { email: `${owner}@example.test` });
    }
    await withBrowser(app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin?tag=v1&status=running`);
      await hydrated(page, ".selection-bar button[data-testid]");
      await page.getByRole("checkbox", {
        name: "Select every instance on this page",
      }).check();
      await page.getByRole("button", { name: "Select all 120 matching" })
        .click();
      await page.getByRole("button", { name: "Schedule for all 120 matching" })
        .click();
      await page.waitForURL(/\/admin\/actions\/new\?.*match=1/);
      await page.setViewportSize({ width: 375, height: 800 });
      await hydrated(page);
      await reviewReady(page);
      const warnings = page.getByTestId("review-warnings");
      assert.match(
        await warnings.innerText(),
        /120 instances are more than 50: the action is written in the background first \("preparing", its progress on its page\), and nothing is sent or applied until every instance is written\./,
      );
      assert.ok(
        await page.evaluate(() =>
          document.documentElement.scrollWidth <= globalThis.innerWidth
        ),
        "no sideways scrolling",
      );
      await expectAccessible(page, "the review of a large action at 375 px");
      assert.deepEqual(errors, []);
      await ctx.close();
    });
  },
});
