/** The one time module: zones, abbreviations, relative times, and the form's wall clock. */
import assert from "node:assert/strict";
import {
  defaultScheduleTime,
  formatDateTime,
  formatRelative,
  formatShortDateTime,
  fromZonedInput,
  toZonedInput,
  zoneAbbreviation,
} from "@/lib/format.ts";

const AT = Date.parse("2026-12-01T09:00:00Z");

Deno.test("format: each zone by its abbreviation; an unknown or missing zone is UTC", () => {
  assert.equal(
    formatDateTime(AT, "America/New_York"),
    "Tue, Dec 1, 2026, 04:00 EST",
  );
  assert.equal(
    formatDateTime(AT, "Asia/Kolkata"),
    "Tue, Dec 1, 2026, 14:30 IST",
  );
  assert.equal(
    formatDateTime(AT, "Europe/Stockholm"),
    "Tue, Dec 1, 2026, 10:00 CET",
  );
  assert.equal(
    formatDateTime(AT, "Asia/Tokyo"),
    "Tue, Dec 1, 2026, 18:00 GMT+9",
  );
  assert.equal(formatDateTime(AT, null), "Tue, Dec 1, 2026, 09:00 UTC");
  assert.equal(
    formatDateTime(AT, "Mars/Olympus"),
    "Tue, Dec 1, 2026, 09:00 UTC",
  );
  assert.equal(formatShortDateTime(AT, "Asia/Kolkata"), "Dec 1, 14:30 IST");
  assert.equal(
    zoneAbbreviation("2026-07-01T12:00:00Z", "America/New_York"),
    "EDT",
  );
  assert.equal(
    zoneAbbreviation("2026-07-01T12:00:00Z", "Europe/London"),
    "BST",
  );
});

Deno.test("format: relative times as people say them", () => {
  const cases: [number, string][] = [
    [10_000, "now"],
    [5 * 60_000, "in 5 min"],
    [3 * 3_600_000 - 1000, "in 3 h"],
    [2.75 * 3_600_000, "in 2 h 45 min"],
    [27 * 3_600_000, "in 27 h"],
    [76 * 3_600_000, "in 3 d 4 h"],
    [-2 * 86_400_000, "2 d ago"],
  ];
  for (const [delta, said] of cases) {
    assert.equal(formatRelative(AT + delta, AT), said, `${delta}`);
  }
});

Deno.test("format: the form's wall clock in a zone names one instant, both ways", async (t) => {
  await t.step("a round trip in several zones", () => {
    for (
      const zone of [
        "America/New_York",
        "Asia/Kolkata",
        "Australia/Sydney",
        "UTC",
      ]
    ) {
      const wall = toZonedInput(AT, zone);
      const back = fromZonedInput(wall, zone);
      assert.ok(back.ok);
      assert.equal(back.ms, AT, zone);
    }
  });
  await t.step("a time the clocks skip is refused", () => {
    assert.deepEqual(fromZonedInput("2026-03-08T02:30", "America/New_York"), {
      ok: false,
      reason: "skipped",
    });
  });
  await t.step(
    "a time the clocks pass twice takes the first, and says so",
    () => {
      const r = fromZonedInput("2026-11-01T01:30", "America/New_York");
      assert.ok(r.ok && r.ambiguous);
      assert.equal(new Date(r.ms).toISOString(), "2026-11-01T05:30:00.000Z");
    },
  );
  await t.step("not a time", () => {
    for (const v of ["", "2026-02-30T10:00", "tomorrow", "2026-12-01 25:00"]) {
      assert.deepEqual(fromZonedInput(v, "UTC"), {
        ok: false,
        reason: "invalid",
      });
    }
  });
  await t.step("the default is the next quarter hour two hours on", () => {
    assert.equal(
      new Date(defaultScheduleTime(Date.parse("2026-12-01T09:07:10Z")))
        .toISOString(),
      "2026-12-01T11:15:00.000Z",
    );
  });
});
