/**
 * The instance page's "Schedule restart" dialog, by keyboard only: Tab to
 * the button, Enter opens it with focus inside, Tab never leaves it, Escape
 * closes it and focus returns to the button; then "apply now" is chosen with
 * the arrow keys and scheduled with Enter. The owner is told at once.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  afterReview,
  expectAccessible,
  fleet,
  hydrated,
  reviewReady,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";

/** Presses Tab until `test` holds for the focused element (at most `max` times). */
async function tabTo(
  page: Page,
  test: string,
  max = 60,
): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    // deno-lint-ignore no-explicit-any
    if (await page.evaluate(test as any)) return;
  }
  throw new Error(`Tab never reached: ${test}`);
}

Deno.test({
  name:
    "browser: the instance page's dialog by keyboard only, apply now included",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    const id = f.ids["Tom's sales bot"];
    await withBrowser(f.app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, f.admin.cookie, {
        timezoneId: "Asia/Kolkata",
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin/instances/${id}`);
      await hydrated(page, 'button[aria-haspopup="dialog"]');
      await expectAccessible(page, "the instance page");

      await tabTo(
        page,
        `document.activeElement?.textContent === "Schedule restart"`,
      );
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", {
        name: "Schedule restart: Tom's sales bot",
      });
      await dialog.waitFor();
      assert.ok(
        await page.evaluate(() =>
          document.activeElement?.closest("dialog") !== null
        ),
        "focus moved into the dialog",
      );
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press("Tab");
        const inside = await page.evaluate(() =>
          document.activeElement === document.body ||
          document.activeElement?.closest("dialog") !== null
        );
        assert.ok(inside, `Tab ${i + 1} stayed in the dialog`);
      }
      await reviewReady(page);
      await expectAccessible(page, "the open dialog");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      assert.equal(
        await page.evaluate(() => document.activeElement?.textContent),
        "Schedule restart",
      );

      // Again, and this time: apply now.
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      await tabTo(
        page,
        `document.activeElement?.getAttribute("name") === "when"`,
      );
      await reviewReady(page);
      await afterReview(page, () => page.keyboard.press("ArrowDown"));
      assert.ok(
        await page.getByRole("radio", { name: /^Apply now/ }).isChecked(),
      );
      assert.match(
        await page.getByTestId("review-headline").innerText(),
        /\(in (1|2) min\)/,
      );
      await tabTo(
        page,
        `document.activeElement?.dataset?.testid === "schedule"`,
      );
      const before = Date.now();
      await page.keyboard.press("Enter");
      await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/);
      const actionId = new URL(page.url()).pathname.split("/").pop()!;
      const detail = await getActionDetail(f.app.kv, actionId);
      const at = Date.parse(detail.stages[0].scheduledAt);
      // The earliest allowed: a minute ahead, rounded up to the next minute.
      assert.ok(at >= before + 60_000 && at <= Date.now() + 3 * 60_000);
      assert.deepEqual(
        detail.targets.items.map((t) => t.target.instanceId),
        [id],
      );
      // Apply now tells the owner at once: the notices are out already.
      const mail = (await listOutbox(f.app.kv)).items.find((m) =>
        m.kind === "email" && m.to === f.tom.user.email
      );
      assert.ok(mail, "Tom was emailed at once");
      assert.deepEqual(errors, []);

      // On a phone the dialog fits the screen: nothing scrolls sideways in it.
      const small = await signedIn(browser, origin, f.admin.cookie, {
        width: 375,
      });
      const phone = await small.newPage();
      await phone.goto(
        `${origin}/admin/instances/${f.ids["Maya's support bot"]}`,
      );
      await hydrated(phone, 'button[aria-haspopup="dialog"]');
      await phone.getByRole("button", { name: "Change version" }).click();
      await reviewReady(phone);
      assert.ok(
        await phone.locator("dialog").evaluate((d) =>
          d.scrollWidth <= d.clientWidth &&
          d.getBoundingClientRect().right <= globalThis.innerWidth
        ),
        "the dialog fits 375 px",
      );
      await expectAccessible(phone, "the dialog at 375 px");
    });
  },
});
