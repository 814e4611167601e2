/**
 * The Move dialog on the action page, at a desktop and a phone width: no
 * complaint before anything is typed; its review shows when the notice and
 * reminders go out at the new time and the message owners already warned
 * get; after the move it says what was done. axe-core runs on each state.
 */
import assert from "node:assert/strict";
import {
  expectAccessible,
  fleet,
  hydrated,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { toZonedInput } from "@/lib/format.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";

const VIEWS = [
  { width: 1280, timezoneId: "Europe/Berlin" },
  { width: 375, timezoneId: "Asia/Kolkata" },
];

for (const view of VIEWS) {
  const at = `${view.width} px in ${view.timezoneId}`;
  Deno.test({
    name:
      `browser ${at}: the Move dialog shows the notice, reminders and message, then confirms the move`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const f = await fleet();
      const minute = 60_000;
      const first = Math.ceil((Date.now() + 30 * 3_600_000) / minute) * minute;
      const created = await f.app.api("POST", "/api/admin/scheduled-actions", {
        actionType: "scheduled_restart",
        instanceIds: [f.ids["Tom's sales bot"]],
        scheduledAt: new Date(first).toISOString(),
        noticeLeadHours: 24,
        reminderLeadHours: [1],
        noticeChannels: ["email", "mobile_push"],
      });
      assert.equal(created.status, 201);
      const actionId = (await created.json()).id;

      await withBrowser(f.app, async (origin, browser) => {
        const ctx = await signedIn(browser, origin, f.admin.cookie, view);
        const page = await ctx.newPage();
        const errors = watch(page);
        await page.goto(`${origin}/admin/actions/${actionId}`);
        await hydrated(page, ".move-open[data-enhanced]");
        await page.getByRole("button", { name: "Move", exact: true }).click();
        const hint = page.locator("#move-time-hint");
        await hint.waitFor();
        // Nothing typed yet: the hint explains the time, it does not complain.
        assert.doesNotMatch(await hint.innerText(), /pick another/);
        assert.match(await hint.innerText(), /^= .* UTC · in /);
        await expectAccessible(page, `the Move dialog at ${at}`);

        // Going on with the same time: now it says why nothing happens.
        await page.getByRole("button", { name: "Review move" }).click();
        await hint.filter({ hasText: "That is the action's time now" })
          .waitFor();
        assert.equal(await page.getByTestId("move-review").count(), 0);

        const to = first + 2 * 86_400_000;
        await page.getByLabel("New time").fill(
          toZonedInput(to, view.timezoneId),
        );
        await page.getByRole("button", { name: "Review move" }).click();
        await page.getByTestId("move-review").waitFor();
        assert.match(
          await page.getByTestId("move-notice").innerText(),
          /^Owners not yet warned get their notice at .*, 24 h ahead\.$/,
        );
        assert.match(
          await page.getByTestId("move-reminders").innerText(),
          /^Reminders by email and push go out at .* \(1 h ahead\)\.$/,
        );
        assert.equal(
          await page.getByTestId("move-subject").innerText(),
          "KiloClaw: Restart moved",
        );
        assert.match(
          await page.getByTestId("move-email-text").innerText(),
          /Tom's sales bot/,
        );
        assert.match(
          await page.getByTestId("move-push").innerText(),
          /Tom's sales bot/,
        );
        await expectAccessible(page, `the Move review at ${at}`);

        await page.getByRole("button", { name: "Move action" }).click();
        const confirmed = page.getByTestId("move-done");
        await confirmed.waitFor();
        assert.match(await confirmed.innerText(), /^Moved to .*\./);
        assert.equal(
          (await getActionDetail(f.app.kv, actionId)).stages[0].scheduledAt,
          new Date(to).toISOString(),
        );
        await expectAccessible(page, `the move confirmed at ${at}`);
        await page.getByRole("button", { name: "Done" }).click();
        await page.locator('tr[data-change="action.reschedule"]').waitFor();
        assert.deepEqual(errors, []);
      });
    },
  });
}
