/** Times as people read them: UTC always, and the user's own zone when known. */
export function formatWhen(iso: string, timeZone: string | null): string {
  const d = new Date(iso);
  const opts: Intl.DateTimeFormatOptions = {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  };
  const utc = `${
    new Intl.DateTimeFormat("en-GB", { ...opts, timeZone: "UTC" }).format(d)
  } UTC`;
  if (!timeZone || timeZone === "UTC") return utc;
  try {
    const local = new Intl.DateTimeFormat("en-GB", {
      ...opts,
      timeZone,
      timeZoneName: "short",
    }).format(d);
    return `${utc} (${local})`;
  } catch {
    return utc;
  }
}

/** Whether a string names an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
