/**
 * Push quiet hours: whether an instant falls inside them, in the owner's
 * zone, and when they end. Pure and side-effect free.
 */
import type { QuietHours } from "../types.ts";
import { localDate, localInstant } from "./maintenance_window.ts";

/** "22:00" → minutes since midnight; the schema has checked the shape. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

/**
 * When the quiet hours around `atMs` end (an instant after it), or null when
 * `atMs` is not inside them. `end` earlier than `start` crosses midnight.
 */
export function quietHoursEnd(
  quiet: QuietHours | null,
  timeZone: string,
  atMs: number,
): number | null {
  if (!quiet) return null;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return null;
  const local = Temporal.Instant.fromEpochMilliseconds(atMs)
    .toZonedDateTimeISO(timeZone);
  const now = local.hour * 60 + local.minute;
  const inside = start < end
    ? now >= start && now < end
    : now >= start || now < end;
  if (!inside) return null;
  const today = localDate(timeZone, atMs);
  // Before the end on this date (after midnight, or a same-day span); else tomorrow's end.
  const endDate = now < end ? today : today.add({ days: 1 });
  const endsAt = localInstant(timeZone, endDate, end);
  return endsAt > atMs ? endsAt : null;
}

/** A warning waits for quiet hours to end only if it still goes this long before the change. */
export const QUIET_HOURS_MARGIN_MS = 3_600_000;

/**
 * When a push warning due at `dueAtMs` should go out instead: the end of the
 * owner's quiet hours if that is at least `QUIET_HOURS_MARGIN_MS` before the
 * change at `changeAtMs`; null to send it now (not quiet, or it cannot wait
 * without coming too close to the change).
 */
export function quietHoursDeferral(
  quiet: QuietHours | null,
  timeZone: string,
  dueAtMs: number,
  changeAtMs: number,
): number | null {
  const endsAt = quietHoursEnd(quiet, timeZone, dueAtMs);
  if (endsAt === null) return null;
  return endsAt <= changeAtMs - QUIET_HOURS_MARGIN_MS ? endsAt : null;
}
