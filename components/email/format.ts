/** Wording helpers shared by the email templates and the push texts. */

/** The greeting's name: the first word of the user's name, or "there". */
export function greetingName(name: string | null | undefined): string {
  const first = name?.trim().split(/\s+/)[0];
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
