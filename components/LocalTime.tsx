/**
 * A time as the viewer reads it. The server writes it in the zone it knows
 * (the user's stored zone, or UTC); the LocalTimes island rewrites every
 * `<time data-format>` in the browser's own zone and keeps relative ones
 * ("in 3 h") current. Not for use inside islands, which format themselves.
 */
import {
  formatDateTime,
  formatRelative,
  formatShortDateTime,
  formatUtc,
  formatWhen,
} from "../lib/format.ts";

export type TimeFormat = "datetime" | "short" | "relative" | "when";

export function formatAs(
  format: TimeFormat,
  at: string,
  timeZone: string | null,
  now: number,
): string {
  switch (format) {
    case "datetime":
      return formatDateTime(at, timeZone);
    case "short":
      return formatShortDateTime(at, timeZone);
    case "relative":
      return formatRelative(at, now);
    case "when":
      return formatWhen(at, timeZone, now);
  }
}

export function LocalTime(
  { at, timeZone, now, format = "datetime" }: {
    at: string;
    timeZone: string | null;
    now: number;
    format?: TimeFormat;
  },
) {
  return (
    <time dateTime={at} data-format={format} title={formatUtc(at)}>
      {formatAs(format, at, timeZone, now)}
    </time>
  );
}
