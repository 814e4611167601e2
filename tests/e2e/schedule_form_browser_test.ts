/**
 * The schedule form on first use, at a desktop and a phone width, in Berlin
 * and in Kolkata: one mouse click on Schedule right after typing schedules;
 * a review that changed says so beside the button; every problem shows at
 * once and the old review is marked out of date; the defaults open on a
 * review with nothing to warn about; "every instance on a tag" starts from
 * another tag than the new one; "Apply now" says owners are told now and
 * stores no past due time; instances another action holds are named where
 * the Schedule button would be. axe-core runs on each state.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  afterReview,
  expectAccessible,
  fleet,
  hydrated,
  NEW_TAG,
  OLD_TAG,
  reviewReady,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import { formatShortDateTime } from "@/lib/format.ts";

const SCHEDULED = /\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/;

const VIEWS = [
  { width: 1280, timezoneId: "Europe/Berlin" },
  { width: 375, timezoneId: "Asia/Kolkata" },
];

/** Warnings that notices go out at once (Maya has no phone: that warning is fair). */
const atOnceWarnings = (page: Page) =>
  page.locator('[data-testid="review-warnings"] [data-code="notice_at_once"]')
    .count();

const actionIdOf = (page: Page) =>
  new URL(page.url()).pathname.split("/").pop()!;

for (const view of VIEWS) {
  const at = `${view.width} px in ${view.timezoneId}`;

  Deno.test({
    name:
      `browser ${at}: one click on Schedule right after typing schedules; a changed review says so`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const f = await fleet();
      await withBrowser(f.app, async (origin, browser) => {
        const ctx = await signedIn(browser, origin, f.admin.cookie, view);
        const page = await ctx.newPage();
        const errors = watch(page);
        const open = async (name: string) => {
          await page.goto(
            `${origin}/admin/actions/new?instanceId=${f.ids[name]}`,
          );
          await hydrated(page);
          await reviewReady(page);
        };

        // The defaults: the time leaves the whole lead, so nothing to warn about.
        await open("Tom's sales bot");
        assert.match(
          await page.getByTestId("review-notices").innerText(),
          /go out at .*, 24 h ahead\./,
        );
        assert.equal(await atOnceWarnings(page), 0);
        await expectAccessible(page, `the fresh form at ${at}`);

        // Type, then one real click: the field's blur must not swallow it.
        await page.getByLabel("Reason").fill("kernel patch");
        await page.getByTestId("schedule").click();
        await page.waitForURL(SCHEDULED);
        const first = await getActionDetail(f.app.kv, actionIdOf(page));
        assert.equal(first.action.reason, "kernel patch");

        // A change the review shows, still on its way when Schedule is
        // pressed: nothing is scheduled, and the admin is told beside the button.
        await open("Maya's support bot");
        let held: () => void = () => {};
        const answered = new Promise<void>((r) => held = r);
        await page.route(`${origin}/admin/actions/new`, async (route) => {
          if (route.request().headers().accept === "application/json") {
            await answered;
          }
          await route.continue();
        });
        await page.getByLabel("Email subject").fill("Tonight's restart");
        await page.getByTestId("schedule").click();
        held();
        const note = page.getByTestId("schedule-note");
        await note.waitFor();
        assert.equal(
          await note.innerText(),
          "The review changed: check it and press Schedule again.",
        );
        assert.match(page.url(), /\/admin\/actions\/new/);
        assert.equal(
          await page.getByTestId("preview-subject").innerText(),
          "Tonight's restart",
        );
        await expectAccessible(page, `the changed review at ${at}`);
        await page.unroute(`${origin}/admin/actions/new`);
        await page.getByTestId("schedule").click();
        await page.waitForURL(SCHEDULED);
        const second = await getActionDetail(f.app.kv, actionIdOf(page));
        assert.equal(second.action.noticeSubject, "Tonight's restart");
        assert.deepEqual(errors, []);
      });
    },
  });

  Deno.test({
    name:
      `browser ${at}: every problem at once, the old review marked out of date; held instances named where Schedule would be`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const f = await fleet();
      const holder = await f.app.api("POST", "/api/admin/scheduled-actions", {
        actionType: "scheduled_restart",
        instanceIds: [f.ids["Maya's research assistant"]],
        scheduledAt: new Date(Date.now() + 30 * 3_600_000).toISOString(),
      });
      assert.equal(holder.status, 201);
      await withBrowser(f.app, async (origin, browser) => {
        const ctx = await signedIn(browser, origin, f.admin.cookie, view);
        const page = await ctx.newPage();
        const errors = watch(page);
        await page.goto(
          `${origin}/admin/actions/new?instanceId=${f.ids["Tom's sales bot"]}`,
        );
        await hydrated(page);
        await reviewReady(page);
        assert.equal(await page.getByTestId("schedule").count(), 1);

        // A time in the past, a lead over the limit, a reminder too large.
        const yesterday = new Date(Date.now() - 86_400_000).toISOString()
          .slice(0, 10);
        await afterReview(page, async () => {
          await page.locator('input[name="scheduledAt"]').fill(
            `${yesterday}T09:00`,
          );
          await page.getByLabel("Hours of notice").fill("200");
          await page.getByLabel(/^Reminders by email and push/).fill("300");
        });
        const stale = page.getByTestId("review-out-of-date");
        await stale.waitFor();
        const said = await stale.innerText();
        assert.match(said, /This review is out of date/);
        assert.match(said, /The time is in the past\./);
        assert.match(said, /from 1 to 168/);
        assert.match(said, /The reminders must be at most 167/);
        assert.doesNotMatch(said, /noticeLeadHours|reminderLeadHours/);
        assert.equal(await page.getByTestId("schedule").count(), 0);
        assert.match(
          await page.locator("#review-title").innerText(),
          /out of date/,
        );
        await expectAccessible(page, `the out-of-date review at ${at}`);

        // Review: the page lists the same three at once.
        await afterReview(
          page,
          () =>
            page.getByRole("button", { name: "Review", exact: true }).click(),
        );
        const summary = await page.locator("#error-summary").innerText();
        assert.match(summary, /3 things to fix/);
        assert.match(summary, /The time is in the past\./);
        await expectAccessible(page, `the form's problems at ${at}`);

        // Instances another action holds: why there is no Schedule button, where it would be.
        await page.goto(
          `${origin}/admin/actions/new?instanceId=${
            f.ids["Maya's research assistant"]
          }&instanceId=${f.ids["Maya's support bot"]}`,
        );
        await hydrated(page);
        await reviewReady(page);
        assert.equal(await page.getByTestId("schedule").count(), 0);
        assert.match(
          await page.getByTestId("not-ready").innerText(),
          /Not ready to schedule yet:\s+1 of the chosen instances already has a pending action\. Skip it, or cancel those actions first\./,
        );
        await expectAccessible(page, `held instances at ${at}`);
        await afterReview(page, () => page.getByTestId("skip-pending").click());
        assert.equal(await page.getByTestId("not-ready").count(), 0);
        assert.equal(await page.getByTestId("schedule").count(), 1);
        assert.deepEqual(errors, []);
      });
    },
  });

  Deno.test({
    name:
      `browser ${at}: a version change over a tag starts from another tag; Apply now tells owners now`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const f = await fleet();
      await withBrowser(f.app, async (origin, browser) => {
        const ctx = await signedIn(browser, origin, f.admin.cookie, view);
        const page = await ctx.newPage();
        const errors = watch(page);
        await page.goto(`${origin}/admin/actions/new?type=version_change`);
        await hydrated(page);
        await reviewReady(page);
        await afterReview(
          page,
          () =>
            page.getByLabel("Every running instance on an image tag").check(),
        );
        assert.equal(
          await page.locator('select[name="selectorTag"]').inputValue(),
          OLD_TAG,
        );
        assert.equal(
          await page.locator('select[name="imageTag"]').inputValue(),
          NEW_TAG,
        );
        assert.match(
          await page.getByTestId("review-headline").innerText(),
          /^Change 3 instances of 2 owners to OpenClaw 1\.9\.0 at /,
        );
        assert.equal(await atOnceWarnings(page), 0);
        await expectAccessible(page, `a version change over a tag at ${at}`);

        // Picking the new version's own tag leaves nothing to change: nobody is told.
        await afterReview(
          page,
          () =>
            page.locator('select[name="selectorTag"]').selectOption(NEW_TAG),
        );
        assert.match(
          await page.getByTestId("review-headline").innerText(),
          /^Nothing left to change/,
        );
        assert.equal(await page.getByTestId("review-notices").count(), 0);
        await afterReview(
          page,
          () =>
            page.locator('select[name="selectorTag"]').selectOption(OLD_TAG),
        );

        // Apply now: owners are told now; no lead, no warning, no past due time.
        await afterReview(page, () => page.getByLabel(/^Apply now/).check());
        assert.equal(
          await page.getByLabel("Hours of notice").isVisible(),
          false,
        );
        assert.match(
          await page.getByTestId("told-now").innerText(),
          /owners are told now/,
        );
        assert.match(
          await page.getByTestId("review-notices").innerText(),
          /^Owners are told now, as it is scheduled, by email, banner and push\.$/,
        );
        assert.equal(await atOnceWarnings(page), 0);
        await expectAccessible(page, `apply now at ${at}`);
        const before = Date.now();
        await page.getByTestId("schedule").click();
        await page.waitForURL(SCHEDULED);
        assert.doesNotMatch(
          await page.locator(".flash").innerText(),
          /longer than the time left/,
        );
        const detail = await getActionDetail(f.app.kv, actionIdOf(page));
        const rows = detail.targets.items.flatMap((t) => t.notifications)
          .filter((n) => n.kind === "notice");
        assert.ok(rows.length > 0);
        for (const row of rows) {
          assert.ok(
            row.dueAt >= before,
            `notice due ${new Date(row.dueAt).toISOString()}`,
          );
        }
        // The action page names the notice due when it was scheduled, not a day before.
        await hydrated(page, ".action-live[data-enhanced]");
        await page.locator("dl.facts").filter({
          hasText: `due ${
            formatShortDateTime(detail.action.createdAt, view.timezoneId)
          }`,
        }).waitFor();
        assert.deepEqual(errors, []);
      });
    },
  });
}
