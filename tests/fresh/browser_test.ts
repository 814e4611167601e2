// Islands hydrating in real Chromium under `script-src 'self'`.
import assert from "node:assert/strict";
import { createHandler } from "$fresh/server.ts";
import { withPage, withServer } from "../helpers/browser.ts";
import manifest from "./fixtures/islands/fresh.gen.ts";

Deno.test({
  name:
    "islands hydrate in Chromium: clicks work, a signal prop is a shared signal",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const buildDir = await Deno.makeTempDir({ prefix: "fresh-browser-test-" });
    const handler = await createHandler(manifest, {
      buildDir,
      setup(app) {
        app.use("*", async (c, next) => {
          await next();
          c.res.headers.set(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'",
          );
        });
      },
    });
    try {
      await withServer(handler, (origin) =>
        withPage(async (page) => {
          await page.goto(`${origin}/`);
          await page.waitForSelector(".counter[data-hydrated]", {
            timeout: 10_000,
          });
          const text = (selector: string) =>
            page.locator(selector).textContent();

          assert.equal(await text(".where"), "browser");
          assert.equal(await text(".shared-kind"), "signal");
          assert.equal(await text(".label"), "</script><b>not markup</b>");
          assert.equal(await text(".tags"), "a|b");

          await page.click(".inc");
          await page.click(".inc");
          await page.waitForFunction(() =>
            document.querySelector(".count")?.textContent === "5"
          );

          await page.click(".inc-shared");
          await page.waitForFunction(() =>
            document.querySelector(".shared-view")?.textContent === "6"
          );

          assert.equal(await text(".slot-child"), "Server-rendered child");
          assert.equal(await text("summary"), "More (closed)");
          await page.click("summary");
          await page.waitForFunction(() =>
            document.querySelector("summary")?.textContent === "More (open)"
          );
          assert.equal(await text(".slot-child"), "Server-rendered child");
          assert.equal(
            await page.locator(".counter").count(),
            1,
            "no duplicated DOM",
          );
        }));
    } finally {
      await Deno.remove(buildDir, { recursive: true });
    }
  },
});
