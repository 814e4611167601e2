/**
 * An owner's maintenance window as instants: when each window starts, in
 * their own zone, across daylight-saving changes. Pure and side-effect free
 * (islands and the scheduler may both import it).
 *
 * The rule for local times a zone skips or repeats:
 * - a start inside a spring-forward gap (02:30 on a day New York jumps from
 *   02:00 to 03:00) starts at the first instant after the gap, 03:00 local;
 * - a start in a fall-back overlap (01:30 happens twice) starts at the first
 *   of the two, so a day never has two starts.
 */
import type { MaintenanceWindow, Weekday } from "../types.ts";
import { WEEKDAYS } from "../types.ts";

const DAY_MS = 86_400_000;

/** The instant a local wall-clock time happens in `timeZone`, by the rule above. */
export function localInstant(
  timeZone: string,
  date: Temporal.PlainDate,
  minuteOfDay: number,
): number {
  const wall = date.toPlainDateTime({
    hour: Math.floor(minuteOfDay / 60),
    minute: minuteOfDay % 60,
  });
  const first = wall.toZonedDateTime(timeZone, { disambiguation: "earlier" });
  if (Temporal.PlainDateTime.compare(first.toPlainDateTime(), wall) === 0) {
    return first.epochMilliseconds;
  }
  // Skipped: "earlier" lands before the gap; the gap ends at the next transition.
  const end = first.getTimeZoneTransition("next");
  return end ? end.epochMilliseconds : first.epochMilliseconds;
}

/** The calendar date an instant falls on in `timeZone`. */
export function localDate(timeZone: string, atMs: number): Temporal.PlainDate {
  return Temporal.Instant.fromEpochMilliseconds(atMs)
    .toZonedDateTimeISO(timeZone).toPlainDate();
}

function weekdayOf(date: Temporal.PlainDate): Weekday {
  return WEEKDAYS[date.dayOfWeek - 1];
}

/** Each window start in [fromMs, toMs], ascending; none when there is no window. */
export function windowStartsBetween(
  window: MaintenanceWindow | null,
  timeZone: string,
  fromMs: number,
  toMs: number,
): number[] {
  if (!window || !window.days.length || !(fromMs <= toMs)) return [];
  const days = new Set(window.days);
  const starts: number[] = [];
  // A day before and after: a start's local date may differ from the
  // range ends' by the zone's offset.
  let date = localDate(timeZone, fromMs).subtract({ days: 1 });
  const last = localDate(timeZone, toMs).add({ days: 1 });
  for (
    ;
    Temporal.PlainDate.compare(date, last) <= 0;
    date = date.add({ days: 1 })
  ) {
    if (!days.has(weekdayOf(date))) continue;
    const at = localInstant(timeZone, date, window.startHour * 60);
    if (at >= fromMs && at <= toMs) starts.push(at);
  }
  return starts;
}

/**
 * The first window start in [notBeforeMs, deadlineMs], or null when there is
 * no window or none starts in that range (the caller falls back to
 * `notBefore`). Cost follows the days to the first start, not the range.
 */
export function firstWindowStart(
  window: MaintenanceWindow | null,
  timeZone: string,
  notBeforeMs: number,
  deadlineMs: number,
): number | null {
  if (!window || !window.days.length || !(notBeforeMs <= deadlineMs)) {
    return null;
  }
  const days = new Set(window.days);
  let date = localDate(timeZone, notBeforeMs).subtract({ days: 1 });
  // Past the deadline by more than a day, no later date can start inside it.
  while (localInstant(timeZone, date, 0) <= deadlineMs + DAY_MS) {
    if (days.has(weekdayOf(date))) {
      const at = localInstant(timeZone, date, window.startHour * 60);
      if (at > deadlineMs) return null;
      if (at >= notBeforeMs) return at;
    }
    date = date.add({ days: 1 });
  }
  return null;
}

const DAY_NAMES: Record<Weekday, string> = {
  mon: "Mon",
  tue: "Tue",
  wed: "Wed",
  thu: "Thu",
  fri: "Fri",
  sat: "Sat",
  sun: "Sun",
};

/** "Tue, Thu 02:00 for 3 h", or "any time": how pages and the audit say a window. */
export function describeWindow(window: MaintenanceWindow | null): string {
  if (!window) return "any time";
  const days = WEEKDAYS.filter((d) => window.days.includes(d))
    .map((d) => DAY_NAMES[d]).join(", ");
  return `${days} ${
    String(window.startHour).padStart(2, "0")
  }:00 for ${window.lengthHours} h`;
}
