/**
 * The README's "First use" walk, step by step, as a new person does it in one
 * browser: the printed admin link, two instances picked and restarted in three
 * hours, the review's sentences, the notices sent by the sweep button and read
 * in the outbox, the demo user's link asking to switch account, her list and
 * banner, and the demo's completed restart. If a step's words change, the
 * README's walk must change with them.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { hydrated, reviewReady, watch, withBrowser } from "../helpers/e2e.ts";
import { seedDemoData } from "@/lib/demo_seed.ts";
import { toZonedInput } from "@/lib/format.ts";
import { getUserByEmail } from "@/lib/kv/users.ts";
import { createLoginLink } from "@/lib/auth/login_links.ts";

const ZONE = "Europe/Berlin";

Deno.test({
  name:
    "browser: the README's first-use walk, from the printed admin link to a completed action",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp();
    const seeded = await seedDemoData(
      app.kv,
      app.ctx.config.publicUrl,
      Date.now(),
      app.ctx,
    );
    assert.ok(seeded);
    await withBrowser(app, async (origin, browser) => {
      const ctx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        timezoneId: ZONE,
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      const local = (link: string) => link.replace(/^https?:\/\/[^/]+/, origin);
      const main = () => page.locator("main").innerText();

      // 2. The admin link signs in and opens Your instances.
      await page.goto(local(seeded.adminLink));
      assert.equal(new URL(page.url()).pathname, "/");
      assert.equal(await page.locator("h1").innerText(), "Your instances");
      assert.match(await main(), /Ops canary/);

      // 3. Two instances ticked on Instances.
      await page.getByRole("link", { name: "Instances", exact: true }).click();
      await hydrated(page, ".selection-bar button[data-testid]");
      await page.getByRole("checkbox", { name: "Select Maya's pinned bot" })
        .check();
      await page.getByRole("checkbox", { name: "Select Tom's sales bot" })
        .check();
      assert.match(
        await page.locator(".selection-bar").innerText(),
        /2 selected/,
      );
      await page.getByRole("button", { name: "Schedule for these" }).click();

      // 4. The form: both instances, a restart 25 h away in the browser's zone.
      await hydrated(page);
      await reviewReady(page);
      const form = await main();
      assert.match(form, /Chosen instances \(2\)/);
      assert.ok(await page.getByLabel("Restart", { exact: true }).isChecked());
      assert.match(form, /Date and time in Europe\/Berlin/);
      assert.match(form, /· in 25 h/);
      const soon = Math.ceil((Date.now() + 3 * 3_600_000) / 900_000) *
        900_000;
      await page.getByLabel(/^Date and time/).fill(toZonedInput(soon, ZONE));
      await page.getByLabel(/^Reason/).fill("Kernel update");
      const review = page.getByTestId("review");
      await review.getByTestId("review-notices").getByText(/at once/).waitFor();
      const said = await review.innerText();
      assert.match(said, /Restart 2 instances of 2 owners at /);
      assert.match(said, /Email, banner and push go out at once/);
      assert.match(said, /The lead \(24 h\) is longer than the time left/);
      assert.match(said, /1 of 2 owners has no device registered/);
      assert.match(said, /What they read, as/);
      await page.getByRole("button", {
        name: "Schedule restart for 2 instances",
      }).click();
      await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}/);

      // 5. Notices pending, due now; the sweep button sends them.
      await hydrated(page, ".action-live[data-enhanced]");
      const counts = page.getByTestId("notice-counts");
      assert.match(await counts.innerText(), /Email\s+0\s+0\s+2\s+0/);
      assert.match(await main(), /due Dec \d+, [\d:]+ CET \(now\)/);
      await page.getByRole("button", { name: "Run notice sweep now" }).click();
      await page.getByText("View email").first().waitFor();
      assert.match(await counts.innerText(), /Email\s+2\s+0\s+0\s+0/);
      assert.match(await counts.innerText(), /Push\s+1\s+1\s+0\s+0/);
      await page.getByRole("link", { name: /View email/ }).first().click();
      await page.waitForURL(/\/admin\/outbox\//);
      assert.equal(
        await page.locator("h1").innerText(),
        "KiloClaw: Restart scheduled",
      );

      // 6. The demo user's link asks to switch; her list and her banner.
      await page.goto(local(seeded.userLink));
      assert.equal(await page.locator("h1").innerText(), "Switch account?");
      await page.getByRole("button", { name: "Sign in as maya@example.com" })
        .click();
      await page.waitForURL(`${origin}/`);
      const pinned = page.locator("li.card", {
        hasText: "Maya's pinned bot",
      });
      assert.match(await pinned.innerText(), /Restart at .* CET/);
      await page.getByRole("link", { name: "Maya's pinned bot" }).click();
      await hydrated(page, '[data-testid="workspace-banner"][data-enhanced]');
      assert.match(
        await page.locator(".banner").innerText(),
        /^Your bot Maya's pinned bot will restart at .* CET \(in (2|3) h/,
      );

      // 7. Back as the admin: the demo's restart two days ago is completed.
      const admin = await getUserByEmail(app.kv, seeded.adminEmail);
      await page.goto(local(
        await createLoginLink(app.kv, admin!.id, app.ctx.config.publicUrl),
      ));
      await page.getByRole("button", { name: /^Sign in as / }).click();
      await page.goto(`${origin}/admin/actions`);
      await page.getByRole("row", { name: /Memory leak fix rollout/ })
        .getByRole("link", { name: "Restart" }).click();
      await hydrated(page, ".action-live[data-enhanced]");
      assert.match(await page.locator("h1").innerText(), /Restart\s+completed/);
      assert.match(
        await page.getByTestId("progress").innerText(),
        /^2 of 2 done · 2 applied/,
      );
      assert.deepEqual(errors, []);
    });
  },
});
