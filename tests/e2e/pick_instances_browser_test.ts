/**
 * Picking instances where they are listed: ticks, then "Schedule for these";
 * or a filter, "select all on this page", "select all N matching" across
 * pages. The form lists the chosen by name and the review counts them.
 */
import assert from "node:assert/strict";
import {
  afterReview,
  expectAccessible,
  fleet,
  hydrated,
  NEW_TAG,
  reviewReady,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { putInstance } from "@/lib/kv/instances.ts";

Deno.test({
  name:
    "browser: pick instances by checkbox, and all matching a filter across pages",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    // 60 more on the new tag: more than one page of 50.
    for (let i = 0; i < 60; i++) {
      await putInstance(f.app.kv, `fleet-${String(i).padStart(2, "0")}`, {
        name: `Fleet bot ${String(i).padStart(2, "0")}`,
        ownerId: f.tom.user.id,
        imageTag: NEW_TAG,
      });
    }
    await withBrowser(f.app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, f.admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);

      await page.goto(`${origin}/admin?q=maya`);
      await hydrated(page, ".selection-bar button[data-testid]");
      await expectAccessible(page, "the instances list");
      await page.getByRole("checkbox", { name: "Select Maya's support bot" })
        .check();
      await page.getByRole("checkbox", {
        name: "Select Maya's research assistant",
      }).check();
      assert.equal(
        await page.getByTestId("selection-bar").locator(".count").innerText(),
        "2 selected",
      );
      await page.getByRole("button", { name: "Schedule for these" }).click();
      await page.waitForURL(/\/admin\/actions\/new\?/);
      await hydrated(page);
      await reviewReady(page);
      assert.deepEqual(
        (await page.getByTestId("chosen").locator("li").allInnerTexts()).map(
          (t) => t.split(" Maya Lindqvist")[0],
        ),
        ["Maya's research assistant", "Maya's support bot"],
      );
      assert.match(
        await page.getByTestId("review-headline").innerText(),
        /^Restart 2 instances of 1 owner at /,
      );

      // All matching: tag filter, the whole page, then every page.
      await page.goto(`${origin}/admin?tag=${NEW_TAG}&status=running`);
      await hydrated(page, ".selection-bar button[data-testid]");
      await page.getByRole("checkbox", {
        name: "Select every instance on this page",
      }).check();
      assert.equal(
        await page.getByTestId("selection-bar").locator(".count").innerText(),
        "50 selected",
      );
      await page.getByRole("button", { name: "Select all 61 matching" })
        .click();
      await page.getByRole("button", { name: "Schedule for all 61 matching" })
        .click();
      await page.waitForURL(/\/admin\/actions\/new\?.*match=1/);
      await hydrated(page);
      await reviewReady(page);
      assert.ok(
        await page.getByRole("radio", {
          name: `All 61 matching tag ${NEW_TAG}, running`,
        }).isChecked(),
      );
      assert.match(
        await page.getByTestId("review-headline").innerText(),
        /^Restart 61 instances of 1 owner at /,
      );
      await afterReview(page, () => page.getByLabel("Change version").check());
      assert.match(
        await page.getByTestId("left-out").innerText(),
        new RegExp(`61 already on image tag ${NEW_TAG}`),
      );
      assert.match(
        await page.getByTestId("review-headline").innerText(),
        /Nothing left to change/,
      );
      assert.equal(await page.getByTestId("schedule").count(), 0);
      assert.deepEqual(errors, []);
    });
  },
});
