/** Wording and time helpers shared by the emails, the push texts and the workspace banner. */
import { oneLine } from "./text.ts";

/** The greeting's name: the first word of the user's name, or "there". */
export function greetingName(name: string | null | undefined): string {
  const first = name ? oneLine(name).split(" ")[0] : undefined;
  return first ? first : "there";
}

const parts: Intl.DateTimeFormatOptions = {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};

// Building a DateTimeFormat costs far more than using one: keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { ...parts, timeZone });
    formatters.set(timeZone, f);
  }
  return f;
}

/** "Mon, Jan 5, 2026, 14:00 UTC" */
export function formatUtc(iso: string): string {
  return `${formatter("UTC").format(new Date(iso))} UTC`;
}

/**
 * The same moment in the user's zone, "Mon, Jan 5, 2026, 15:00 Europe/Berlin";
 * null when the user has no zone, it is UTC anyway, or the zone is unknown.
 */
export function formatInZone(
  iso: string,
  timeZone: string | null | undefined,
): string | null {
  if (!timeZone || /^(Etc\/)?(UTC|GMT|Zulu|UCT)$/i.test(timeZone)) return null;
  try {
    return `${formatter(timeZone).format(new Date(iso))} ${timeZone}`;
  } catch {
    return null;
  }
}

/** UTC always, and the user's own zone after it when known: what the banner shows. */
export function formatWhen(iso: string, timeZone: string | null): string {
  const local = formatInZone(iso, timeZone);
  return local ? `${formatUtc(iso)} (${local})` : formatUtc(iso);
}

/** Whether a string names an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
