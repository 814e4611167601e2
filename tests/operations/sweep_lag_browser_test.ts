/**
 * The admin actions page shows the sweep lag `/healthz` reports, in Chromium.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { HOUR, MINUTE, seedAction } from "../helpers/notice_fixtures.ts";
import { SESSION_COOKIE } from "@/lib/auth/sessions.ts";

Deno.test({
  name: "browser: the actions page shows the same sweep lag as /healthz",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const now = Date.now();
    const app = await createTestApp({ context: { now: () => now } });
    const admin = await app.signIn({ admin: true });
    // A notice due twelve minutes ago that no sweep has sent.
    await seedAction(app.kv, {
      now: now - HOUR,
      scheduledAt: now + 48 * MINUTE,
      leadHours: 1,
      channels: ["webapp"],
    });
    await app.serve(async (origin) => {
      const health = await (await fetch(`${origin}/healthz`)).json();
      assert.equal(health.sweepLagSeconds, 720);
      const browser = await launchBrowser();
      const errors: string[] = [];
      try {
        const context = await browser.newContext();
        await context.addCookies([{
          name: SESSION_COOKIE,
          value: admin.cookie.split("=")[1],
          url: origin,
          httpOnly: true,
          sameSite: "Lax",
        }]);
        const page = await context.newPage();
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(`${origin}/admin/actions`);
        const lag = page.getByTestId("sweep-lag");
        await lag.getByText(/^Notices waiting up to 12 min/).waitFor();
        assert.match(
          await lag.innerText(),
          /oldest due notice has waited 720 s/,
        );
      } finally {
        await browser.close();
      }
      assert.deepEqual(errors, []);
    });
    await app.close();
  },
});
