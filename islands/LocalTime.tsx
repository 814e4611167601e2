/**
 * A time as the viewer reads it: first written by the server in the zone it
 * knows (the user's stored zone, or UTC), then in the browser's own zone, and
 * for relative times ("in 3 h") kept current while the page is open. Inside
 * another island it is a plain component of it.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import {
  formatDateTime,
  formatRelative,
  formatShortDateTime,
  formatUtc,
  formatWhen,
  localTimeZone,
} from "@/lib/format.ts";

export type TimeFormat = "datetime" | "short" | "relative" | "when";

function formatAs(
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

export default function LocalTime(
  { at, timeZone, now, format = "datetime" }: {
    at: string;
    timeZone: string | null;
    now: number;
    format?: TimeFormat;
  },
) {
  const zone = useSignal(timeZone);
  const clock = useSignal(now);
  useEffect(() => {
    zone.value = localTimeZone();
    clock.value = Date.now();
    if (format !== "relative" && format !== "when") return;
    const timer = setInterval(() => clock.value = Date.now(), 30_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <time dateTime={at} title={formatUtc(at)}>
      {formatAs(format, at, zone.value, clock.value)}
    </time>
  );
}
