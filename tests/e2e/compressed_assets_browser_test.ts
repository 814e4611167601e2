/**
 * Chromium takes the compressed page, stylesheet and island script, applies
 * and runs them, and posts a form with the page's masked CSRF token.
 */
import assert from "node:assert/strict";
import {
  fleet,
  hydrated,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";

Deno.test({
  name: "Chromium loads a compressed page with its compressed CSS and script",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    await withBrowser(f.app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, f.admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      const answers = new Map<string, Record<string, string>>();
      page.on("response", async (res) => {
        const type = res.request().resourceType();
        if (["document", "stylesheet", "script"].includes(type)) {
          answers.set(type, await res.allHeaders());
        }
      });
      await page.goto(`${origin}/admin/actions/new`);
      await hydrated(page);
      for (const type of ["document", "stylesheet", "script"]) {
        const headers = answers.get(type);
        assert.ok(headers, `no ${type} was loaded`);
        assert.equal(headers["content-encoding"], "br", type);
      }
      assert.equal(
        answers.get("stylesheet")!["cache-control"],
        "public, max-age=31536000, immutable",
      );
      const skipLink = await page.evaluate(() =>
        getComputedStyle(document.querySelector(".skip-link")!).position
      );
      assert.equal(skipLink, "absolute", "styles.css applies");

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(/\/login/);
      assert.deepEqual(errors, []);
    });
  },
});
