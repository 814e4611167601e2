/**
 * The API reference (`/admin/api`) in Chromium at 1280 and 375 px: reached
 * from the admin nav, it lists every operation and webhook of the OpenAPI
 * document, loaded only from this app (no request leaves the origin), with
 * no console error, and axe finds nothing wrong; without JavaScript it says
 * so and links the document.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  expectAccessible,
  expectAccessibleWithoutScripts,
  fleet,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { buildOpenApiDocument } from "@/lib/openapi/document.ts";

function summaries(): string[] {
  const doc = buildOpenApiDocument("http://localhost:8000");
  // Operations, and what receivers get (the document's webhooks).
  return [
    ...Object.values(doc.paths ?? {}),
    ...Object.values(doc.webhooks ?? {}),
  ].flatMap((item) =>
    Object.values(item as Record<string, { summary?: string }>)
      .map((op) => op.summary!)
  );
}

async function listedOperations(page: Page): Promise<string[]> {
  return await page.locator("#api-docs").evaluate((el) => el.textContent ?? "")
    .then((text) => summaries().filter((s) => !text.includes(s)));
}

Deno.test({
  name:
    "browser: the API reference lists every operation, from this app's files only, axe clean (1280 and 375 px)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    await withBrowser(f.app, async (origin, browser) => {
      for (const width of [1280, 375]) {
        const ctx = await signedIn(browser, origin, f.admin.cookie, { width });
        const page = await ctx.newPage();
        const errors = watch(page);
        const elsewhere: string[] = [];
        page.on("request", (r) => {
          const url = new URL(r.url());
          if (url.origin !== origin && url.protocol !== "data:") {
            elsewhere.push(r.url());
          }
        });
        await page.goto(`${origin}/admin`);
        await page.getByRole("navigation", { name: "Main" })
          .getByRole("link", { name: "API" }).click();
        await page.waitForURL(`${origin}/admin/api`);
        await page.getByRole("heading", { name: "KiloClaw Scheduler API" })
          .waitFor();
        assert.equal(
          await page.getByText("The reference needs JavaScript").count(),
          0,
          "the words for browsers without JavaScript stayed",
        );
        if (width < 600) {
          // On a phone the operations are behind the reference's menu.
          await page.locator("#api-docs").getByRole("button", {
            name: /menu/i,
          }).first().click();
        }
        await page.waitForFunction(
          (names) => {
            const text = document.querySelector("#api-docs")?.textContent ??
              "";
            return names.every((n: string) => text.includes(n));
          },
          summaries(),
          { timeout: 15_000 },
        ).catch(() => {});
        assert.deepEqual(
          await listedOperations(page),
          [],
          `operations missing at ${width} px`,
        );
        if (width >= 600) {
          // An operation shows the README's example body.
          await page.locator("#api-docs").getByText(
            "Schedule a restart or a version change",
          ).first().click();
          await page.locator("#api-docs").getByText('"2026.11.2"').first()
            .waitFor();
        }
        await expectAccessible(page, `/admin/api at ${width} px`, {
          // Scalar renders the reference as a <main> of its own, inside the
          // app's <main>; its markup is not the app's to change.
          "landmark-main-is-top-level": "Scalar's own <main>",
          "landmark-no-duplicate-main": "Scalar's own <main>",
        });
        assert.deepEqual(errors, [], `errors at ${width} px`);
        assert.deepEqual(
          elsewhere,
          [],
          `requests to other origins at ${width} px`,
        );
        await ctx.close();
      }

      // Without JavaScript the page says so and links the document itself.
      const ctx = await signedIn(browser, origin, f.admin.cookie, {
        javaScriptEnabled: false,
      });
      const page = await ctx.newPage();
      await page.goto(`${origin}/admin/api`);
      await page.getByText("The reference needs JavaScript").waitFor();
      const link = page.getByRole("link", { name: "OpenAPI document" });
      assert.equal(await link.getAttribute("href"), "/api/openapi.json");
      await expectAccessibleWithoutScripts(
        browser,
        origin,
        // Its copy runs axe only: the reference's own scripts stay out.
        (await page.content()).replace(/<script\b[^>]*><\/script>/g, ""),
        "/admin/api without JavaScript",
      );
      await ctx.close();
    });
  },
});
