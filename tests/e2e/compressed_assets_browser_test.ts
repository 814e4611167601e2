/**
 * Chromium takes the compressed page, stylesheet and island script, applies
 * and runs them, and posts a form with the page's masked CSRF token.
 */
import assert from "node:assert/strict";
import type { Response } from "playwright-core";
import {
  fleet,
  hydrated,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";

interface Answer {
  type: string;
  url: string;
  headers: Record<string, string>;
  /** The body as the page got it, decompressed. */
  bytes: number;
}

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
      const answers: Promise<Answer>[] = [];
      const record = (res: Response) => {
        const type = res.request().resourceType();
        if (!["document", "stylesheet", "script"].includes(type)) return;
        if (res.status() !== 200) return;
        answers.push((async () => ({
          type,
          url: res.url(),
          headers: await res.allHeaders(),
          bytes: (await res.body()).byteLength,
        }))());
      };
      page.on("response", record);
      await page.goto(`${origin}/admin/actions/new`);
      await hydrated(page);
      await page.waitForLoadState("networkidle");
      page.off("response", record);
      const loaded = await Promise.all(answers);
      for (const type of ["document", "stylesheet", "script"]) {
        assert.ok(
          loaded.some((a) =>
            a.type === type && a.headers["content-encoding"] === "br"
          ),
          `no ${type} came compressed`,
        );
      }
      for (const answer of loaded) {
        // Chunks of the island bundle under 1 KiB are sent as they are.
        if (answer.bytes < 1024) continue;
        assert.equal(answer.headers["content-encoding"], "br", answer.url);
      }
      assert.equal(
        loaded.find((a) => a.type === "stylesheet")!.headers["cache-control"],
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
