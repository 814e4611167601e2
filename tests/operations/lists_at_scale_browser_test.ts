/**
 * The action page's filter by outcome in Chromium: the links with their
 * counts, the filtered table staying filtered when the page refreshes itself,
 * and "More instances" keeping the filter.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { endSome, FAILED, seedAction } from "../helpers/outcome_fixtures.ts";
import { SESSION_COOKIE } from "@/lib/auth/sessions.ts";

Deno.test({
  name:
    "browser: the action page filters its instances by outcome, through refreshes and pages",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp();
    const admin = await app.signIn({ admin: true });
    const { action, targets } = await seedAction(app.kv, 120);
    const failed = await endSome(app.kv, targets, [5, 90], FAILED);
    await app.serve(async (origin) => {
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
        await page.goto(`${origin}/admin/actions/${action.id}`);
        const filter = page.getByRole("navigation", {
          name: "Instances by outcome",
        });
        assert.equal(
          (await filter.innerText()).replace(/\s+/g, " ").trim(),
          "All 120 Pending 118 Failed 2",
        );
        await filter.getByRole("link", { name: /^Failed/ }).click();
        await page.waitForURL(/outcome=failed/);
        const rows = page.locator("table.targets tbody tr");
        assert.equal(await rows.count(), 2);
        // A refresh of the island asks for the same outcome.
        const refreshed = page.waitForResponse((r) =>
          r.url().includes("/progress?") && r.url().includes("outcome=failed")
        );
        await page.evaluate(() =>
          document.dispatchEvent(new Event("visibilitychange"))
        );
        assert.equal((await refreshed).status(), 200);
        await page.waitForTimeout(200);
        assert.equal(await rows.count(), 2);
        for (const t of failed) {
          assert.ok(
            (await rows.allInnerTexts()).join("\n").includes(
              t.instanceId,
            ),
          );
        }

        await filter.getByRole("link", { name: /^Pending/ }).click();
        await page.waitForURL(/outcome=pending/);
        assert.equal(await rows.count(), 50);
        await page.getByRole("link", { name: "More instances →" }).click();
        await page.waitForURL(/outcome=pending.*cursor=/);
        assert.equal(await rows.count(), 50);
        assert.equal(
          await filter.locator('[aria-current="page"]').getAttribute(
            "data-outcome",
          ),
          "pending",
        );
      } finally {
        await browser.close();
      }
      assert.deepEqual(errors, []);
    });
    await app.close();
  },
});
