/**
 * Window arithmetic: window starts as instants in the owner's zone, across
 * daylight-saving changes both ways, half-hour offsets, the southern
 * hemisphere, midnight and empty ranges.
 */
import assert from "node:assert/strict";
import {
  describeWindow,
  firstWindowStart,
  localInstant,
  windowStartsBetween,
} from "@/lib/owners/maintenance_window.ts";
import { quietHoursDeferral, quietHoursEnd } from "@/lib/owners/quiet_hours.ts";
import type { MaintenanceWindow } from "@/lib/types.ts";

const at = (iso: string) => Date.parse(iso);
const isoOf = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

Deno.test("window starts", async (t) => {
  await t.step("Kolkata (+05:30): Tuesday 02:00 is Monday 20:30 UTC", () => {
    const w: MaintenanceWindow = {
      days: ["tue"],
      startHour: 2,
      lengthHours: 3,
    };
    // Mon 2026-12-07 … Mon 2026-12-21 (UTC).
    const starts = windowStartsBetween(
      w,
      "Asia/Kolkata",
      at("2026-12-07T00:00:00Z"),
      at("2026-12-21T00:00:00Z"),
    );
    assert.deepEqual(starts.map(isoOf), [
      "2026-12-07T20:30:00.000Z",
      "2026-12-14T20:30:00.000Z",
    ]);
    assert.equal(
      firstWindowStart(
        w,
        "Asia/Kolkata",
        at("2026-12-07T20:31:00Z"),
        at("2026-12-31T00:00:00Z"),
      ),
      at("2026-12-14T20:30:00Z"),
    );
  });

  await t.step("the range's ends are inclusive", () => {
    const w: MaintenanceWindow = {
      days: ["tue"],
      startHour: 2,
      lengthHours: 1,
    };
    const s = at("2026-12-07T20:30:00Z");
    assert.deepEqual(windowStartsBetween(w, "Asia/Kolkata", s, s), [s]);
    assert.equal(firstWindowStart(w, "Asia/Kolkata", s, s), s);
    assert.equal(firstWindowStart(w, "Asia/Kolkata", s + 1, s + 1), null);
  });

  await t.step(
    "New York spring forward: 02:30 on 2027-03-14 starts at 03:00 EDT",
    () => {
      const w: MaintenanceWindow = {
        days: ["sun"],
        startHour: 2,
        lengthHours: 2,
      };
      // 02:00 itself is skipped too: the gap runs 02:00–03:00.
      assert.deepEqual(
        windowStartsBetween(
          w,
          "America/New_York",
          at("2027-03-07T00:00:00Z"),
          at("2027-03-22T00:00:00Z"),
        ).map(isoOf),
        [
          "2027-03-07T07:00:00.000Z", // 02:00 EST
          "2027-03-14T07:00:00.000Z", // the gap's end: 03:00 EDT
          "2027-03-21T06:00:00.000Z", // 02:00 EDT
        ],
      );
      const local = new Intl.DateTimeFormat("en-US", {
        timeZone: "America/New_York",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      }).format(
        firstWindowStart(
          w,
          "America/New_York",
          at("2027-03-13T00:00:00Z"),
          at("2027-03-15T00:00:00Z"),
        )!,
      );
      assert.equal(local, "03:00");
    },
  );

  await t.step(
    "02:30 on the spring-forward day is 03:00, the gap's end (not 03:30)",
    () => {
      const day = Temporal.PlainDate.from("2027-03-14");
      assert.equal(
        isoOf(localInstant("America/New_York", day, 2 * 60 + 30)),
        "2027-03-14T07:00:00.000Z",
      );
      // The same wall time on an ordinary day is itself.
      assert.equal(
        isoOf(
          localInstant("America/New_York", day.add({ days: 7 }), 2 * 60 + 30),
        ),
        "2027-03-21T06:30:00.000Z",
      );
    },
  );

  await t.step(
    "New York fall back: 01:00 on 2027-11-07 starts once, at the first 01:00",
    () => {
      const w: MaintenanceWindow = {
        days: ["sun"],
        startHour: 1,
        lengthHours: 1,
      };
      const starts = windowStartsBetween(
        w,
        "America/New_York",
        at("2027-11-06T00:00:00Z"),
        at("2027-11-08T12:00:00Z"),
      );
      // 01:00 EDT (05:00 UTC), not also 01:00 EST (06:00 UTC).
      assert.deepEqual(starts.map(isoOf), ["2027-11-07T05:00:00.000Z"]);
    },
  );

  await t.step("Sydney: the offset changes in April (+11 → +10)", () => {
    const w: MaintenanceWindow = {
      days: ["sat", "sun"],
      startHour: 23,
      lengthHours: 4,
    };
    assert.deepEqual(
      windowStartsBetween(
        w,
        "Australia/Sydney",
        at("2027-03-26T00:00:00Z"),
        at("2027-04-05T00:00:00Z"),
      ).map(isoOf),
      [
        "2027-03-27T12:00:00.000Z", // Sat 23:00 AEDT (+11)
        "2027-03-28T12:00:00.000Z", // Sun 23:00 AEDT
        "2027-04-03T12:00:00.000Z", // Sat 23:00 AEDT: the change is Sun 03:00
        "2027-04-04T13:00:00.000Z", // Sun 23:00 AEST (+10)
      ],
    );
  });

  await t.step("UTC, every day at midnight, a window crossing midnight", () => {
    const w: MaintenanceWindow = {
      days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      startHour: 23,
      lengthHours: 3,
    };
    assert.deepEqual(
      windowStartsBetween(
        w,
        "UTC",
        at("2026-12-31T22:00:00Z"),
        at("2027-01-02T23:00:00Z"),
      ).map(isoOf),
      [
        "2026-12-31T23:00:00.000Z",
        "2027-01-01T23:00:00.000Z",
        "2027-01-02T23:00:00.000Z",
      ],
    );
    const midnight: MaintenanceWindow = {
      days: ["fri"],
      startHour: 0,
      lengthHours: 8,
    };
    assert.equal(
      firstWindowStart(
        midnight,
        "UTC",
        at("2027-01-01T00:00:01Z"),
        at("2027-02-01T00:00:00Z"),
      ),
      at("2027-01-08T00:00:00Z"),
    );
  });

  await t.step("empty ranges, no window, none in range", () => {
    const w: MaintenanceWindow = {
      days: ["wed"],
      startHour: 10,
      lengthHours: 1,
    };
    const from = at("2027-01-01T00:00:00Z");
    assert.deepEqual(windowStartsBetween(w, "UTC", from, from - 1), []);
    assert.deepEqual(
      windowStartsBetween(null, "UTC", from, from + 30 * 24 * HOUR),
      [],
    );
    assert.equal(
      firstWindowStart(null, "UTC", from, from + 30 * 24 * HOUR),
      null,
    );
    // Fri 1 Jan to Tue 5 Jan holds no Wednesday.
    assert.equal(
      firstWindowStart(w, "UTC", from, at("2027-01-05T23:59:00Z")),
      null,
    );
    assert.equal(firstWindowStart(w, "UTC", from, from - 1), null);
  });

  await t.step("said in words", () => {
    assert.equal(describeWindow(null), "any time");
    assert.equal(
      describeWindow({ days: ["thu", "tue"], startHour: 2, lengthHours: 3 }),
      "Tue, Thu 02:00 for 3 h",
    );
  });
});

Deno.test("quiet hours", async (t) => {
  const night = { start: "22:00", end: "07:00" };
  await t.step("crossing midnight, in the owner's zone", () => {
    // 23:30 IST on 2027-01-04 is 18:00 UTC; quiet until 07:00 IST = 01:30 UTC next day.
    assert.equal(
      quietHoursEnd(night, "Asia/Kolkata", at("2027-01-04T18:00:00Z")),
      at("2027-01-05T01:30:00Z"),
    );
    // 03:00 IST, after midnight: the same morning's 07:00.
    assert.equal(
      quietHoursEnd(night, "Asia/Kolkata", at("2027-01-04T21:30:00Z")),
      at("2027-01-05T01:30:00Z"),
    );
    // 07:00 sharp is no longer quiet; 21:59 not yet.
    assert.equal(
      quietHoursEnd(night, "Asia/Kolkata", at("2027-01-05T01:30:00Z")),
      null,
    );
    assert.equal(
      quietHoursEnd(night, "Asia/Kolkata", at("2027-01-04T16:29:00Z")),
      null,
    );
  });

  await t.step("within a day, and none set", () => {
    const lunch = { start: "12:00", end: "13:30" };
    assert.equal(
      quietHoursEnd(lunch, "UTC", at("2027-01-04T12:10:00Z")),
      at("2027-01-04T13:30:00Z"),
    );
    assert.equal(quietHoursEnd(lunch, "UTC", at("2027-01-04T13:30:00Z")), null);
    assert.equal(quietHoursEnd(null, "UTC", at("2027-01-04T12:10:00Z")), null);
  });

  await t.step(
    "waits only if the end is an hour or more before the change",
    () => {
      const due = at("2027-01-04T23:00:00Z"); // quiet in UTC until 07:00
      const end = at("2027-01-05T07:00:00Z");
      assert.equal(quietHoursDeferral(night, "UTC", due, end + HOUR), end);
      assert.equal(quietHoursDeferral(night, "UTC", due, end + HOUR - 1), null);
      assert.equal(quietHoursDeferral(night, "UTC", due, end), null);
    },
  );

  await t.step("an end inside a spring-forward gap is the gap's end", () => {
    const q = { start: "23:00", end: "02:30" };
    // 2027-03-14 01:00 EST = 06:00 UTC; 02:30 does not exist that night.
    assert.equal(
      quietHoursEnd(q, "America/New_York", at("2027-03-14T06:00:00Z")),
      at("2027-03-14T07:00:00Z"),
    );
  });
});
