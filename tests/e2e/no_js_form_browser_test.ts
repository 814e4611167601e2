/**
 * The schedule form without JavaScript: it posts to its own page, which
 * checks it with the API's schema and answers in plain words, once, with the
 * summary focused and the field marked; "Review" renders the dry run; a form
 * changed after its review is not scheduled blind; "Schedule" commits
 * exactly the time shown (in the zone named beside it).
 */
import assert from "node:assert/strict";
import {
  expectAccessibleWithoutScripts,
  fleet,
  signedIn,
  withBrowser,
} from "../helpers/e2e.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import { fromZonedInput } from "@/lib/format.ts";

Deno.test({
  name:
    "browser without JavaScript: errors once and in plain words, review, a changed form is reviewed again, schedule",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    await withBrowser(f.app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, f.admin.cookie, {
        javaScriptEnabled: false,
        timezoneId: "Asia/Kolkata",
      });
      const page = await ctx.newPage();
      await page.goto(
        `${origin}/admin/actions/new?instanceId=${
          f.ids["Maya's support bot"]
        }&instanceId=${f.ids["Tom's sales bot"]}`,
      );
      // The admin has no stored zone: the server writes UTC and says so.
      assert.equal(await page.getByTestId("zone-label").innerText(), "in UTC");
      assert.deepEqual(
        await page.getByTestId("chosen").locator("li").allInnerTexts(),
        [
          "Maya's support bot Maya Lindqvist " +
          `<${f.maya.user.email}> · 2026.11.1`,
          `Tom's sales bot Tom Okafor <${f.tom.user.email}> · 2026.11.1`,
        ],
      );
      const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(
        0,
        10,
      );
      await page.locator('input[name="scheduledAt"]').fill(`${day}T07:45`);
      await page.getByLabel("Hours of notice").fill("");
      await page.getByLabel("Email subject").fill("Two\u0007lines");
      await page.getByRole("button", { name: "Review", exact: true }).click();

      // Errors: once each, in words, no field paths, focus on the summary.
      const summary = page.locator("#error-summary");
      await summary.waitFor();
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        "error-summary",
      );
      const text = await page.locator("main").innerText();
      for (
        const message of [
          "Enter the hours of notice: a whole number from 1 to 168.",
          "The email subject must not contain control characters (found U+0007).",
        ]
      ) {
        assert.equal(text.split(message).length - 1, 1, `"${message}" once`);
      }
      assert.doesNotMatch(
        text,
        /noticeLeadHours|noticeSubject|invalid request/,
      );
      assert.equal(
        await page.getByLabel("Hours of notice").getAttribute("aria-invalid"),
        "true",
      );
      assert.equal(
        await page.getByLabel("Hours of notice").getAttribute(
          "aria-describedby",
        ),
        "err-f-lead",
      );
      assert.equal(
        await page.locator('input[name="scheduledAt"]').inputValue(),
        `${day}T07:45`,
      );
      await expectAccessibleWithoutScripts(
        browser,
        origin,
        await page.content(),
        "the form with errors, without JavaScript",
      );

      // Review: the dry run, rendered by the server.
      await page.getByLabel("Hours of notice").fill("12");
      await page.getByLabel("Email subject").fill("Planned restart");
      await page.getByRole("button", { name: "Review", exact: true }).click();
      await page.getByTestId("review-headline").waitFor();
      assert.match(
        await page.getByTestId("review-headline").innerText(),
        /^Restart 2 instances of 2 owners at /,
      );
      assert.equal(
        await page.getByTestId("preview-subject").innerText(),
        "Planned restart",
      );
      await expectAccessibleWithoutScripts(
        browser,
        origin,
        await page.content(),
        "the review, without JavaScript",
      );

      // Changed after the review: not scheduled, reviewed again.
      await page.getByLabel("Hours of notice").fill("6");
      await page.getByTestId("schedule").click();
      await page.getByText(
        "The review changed: check it and press Schedule again.",
      )
        .waitFor();
      assert.match(page.url(), /\/admin\/actions\/new$/);

      await page.getByTestId("schedule").click();
      await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/);
      const id = new URL(page.url()).pathname.split("/").pop()!;
      const detail = await getActionDetail(f.app.kv, id);
      const shown = fromZonedInput(`${day}T07:45`, "UTC");
      assert.ok(shown.ok);
      assert.equal(Date.parse(detail.stages[0].scheduledAt), shown.ms);
      assert.equal(detail.action.noticeLeadHours, 6);
      assert.equal(detail.counters.total, 2);
      assert.match(
        await page.locator(".flash").innerText(),
        /Scheduled for 2 instances\./,
      );
    });
  },
});
