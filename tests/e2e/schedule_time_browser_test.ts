/**
 * The time shown is the time scheduled. An admin with no stored zone (the
 * server writes UTC) opens the form in a browser in New York, then in
 * Kolkata: the field is in the browser's zone, named beside it, with its UTC
 * time; untouched, typed, and after an error, what is stored is what was
 * shown.
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
import { fromZonedInput } from "@/lib/format.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import type { TestApp } from "../helpers/app.ts";

/** The instant the form's field names, read as the admin reads it: value and zone. */
async function shownInstant(page: Page): Promise<number> {
  const value = await page.locator('input[name="scheduledAt"]').inputValue();
  const zone = await page.locator('input[name="timeZone"]').inputValue();
  const at = fromZonedInput(value, zone);
  assert.ok(at.ok, `the field holds a time: ${value} in ${zone}`);
  return at.ms;
}

/** Review, then Schedule; answers the stored time of the new action. */
async function reviewAndSchedule(page: Page, app: TestApp): Promise<number> {
  await afterReview(
    page,
    () => page.getByRole("button", { name: "Review", exact: true }).click(),
  );
  await page.getByTestId("schedule").click();
  await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/);
  const id = new URL(page.url()).pathname.split("/").pop()!;
  const detail = await getActionDetail(app.kv, id);
  return Date.parse(detail.stages[0].scheduledAt);
}

for (
  const [zone, abbreviation] of [
    ["America/New_York", /E[SD]T/],
    ["Asia/Kolkata", /IST/],
  ] as const
) {
  Deno.test({
    name:
      `browser in ${zone}: the shown time is the stored time, untouched, typed and after an error`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const f = await fleet();

      await withBrowser(f.app, async (origin, browser) => {
        const ctx = await signedIn(browser, origin, f.admin.cookie, {
          timezoneId: zone,
        });
        const page = await ctx.newPage();
        const errors = watch(page);
        // Each round schedules another instance: one holds a pending action after it.
        const open = async (name: string) => {
          await page.goto(
            `${origin}/admin/actions/new?instanceId=${f.ids[name]}`,
          );
          await hydrated(page);
          await reviewReady(page);
          await page.getByTestId("zone-label").filter({ hasText: zone })
            .waitFor();
        };

        // Untouched: the default, converted from the server's UTC to this zone.
        await open("Tom's sales bot");
        assert.match(
          await page.getByTestId("zone-label").innerText(),
          new RegExp(
            `in ${zone.replace("/", "\\/")} \\(${abbreviation.source}\\)`,
          ),
        );
        const untouched = await shownInstant(page);
        const hint = await page.getByTestId("time-hint").innerText();
        const utc = new Date(untouched).toISOString().slice(11, 16);
        assert.ok(hint.includes(`${utc} UTC`), `${hint} names ${utc} UTC`);
        // The default leaves the whole 24 h notice lead, and a little more.
        assert.match(hint, /in 25 h/);
        await expectAccessible(page, "the schedule form with its review");
        assert.equal(await reviewAndSchedule(page, f.app), untouched);

        // Typed: 09:30 in this zone, in three days.
        await open("Maya's support bot");
        const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(
          0,
          10,
        );
        await page.locator('input[name="scheduledAt"]').fill(`${day}T09:30`);
        const typed = await shownInstant(page);
        const expected = fromZonedInput(`${day}T09:30`, zone);
        assert.ok(expected.ok);
        assert.equal(typed, expected.ms);

        // After an error: the time stays as typed and means the same.
        await page.getByLabel("Hours of notice").fill("");
        await page.getByRole("button", { name: "Review", exact: true }).click();
        const summary = page.locator("#error-summary");
        await summary.waitFor();
        await page.waitForFunction(() =>
          document.activeElement?.id === "error-summary"
        );
        assert.match(await summary.innerText(), /Enter the hours of notice/);
        assert.equal(
          await page.getByLabel("Hours of notice").getAttribute("aria-invalid"),
          "true",
        );
        assert.equal(
          await page.locator('input[name="scheduledAt"]').inputValue(),
          `${day}T09:30`,
        );
        await expectAccessible(page, "the schedule form with an error");
        await page.getByLabel("Hours of notice").fill("24");
        assert.equal(await reviewAndSchedule(page, f.app), expected.ms);
        assert.deepEqual(errors, []);
      });
    },
  });
}
