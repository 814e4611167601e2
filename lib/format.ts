/**
 * Every time the product shows, in one place: pages, the workspace banner,
 * emails and push. Absolute times name their zone by its abbreviation
 * ("Tue, Dec 1, 2026, 04:00 EST"), relative ones read "in 3 h". Also the
 * conversions of the schedule form's wall-clock field ("2026-12-01T04:00" in
 * a zone) to an instant and back.
 *
 * Side-effect free and KV free: islands import it, so the browser formats
 * exactly as the server does.
 */
import { oneLine } from "./text.ts";

/** The greeting's name: the first word of the user's name, or "there". */
export function greetingName(name: string | null | undefined): string {
  const first = name ? oneLine(name).split(" ")[0] : undefined;
  return first ? first : "there";
}

export const UTC = "UTC";

type When = number | string | Date;

function toMs(at: When): number {
  return typeof at === "number"
    ? at
    : typeof at === "string"
    ? Date.parse(at)
    : at.getTime();
}

/**
 * Remembers the last answers of a function of one string (a fleet's emails
 * format the same few instants in the same few zones); forgets them all past
 * `size`, so odd input cannot grow it.
 */
function remembered<T>(size: number, fn: (key: string) => T) {
  const seen = new Map<string, T>();
  return (key: string): T => {
    let v = seen.get(key);
    if (v === undefined) {
      if (seen.size >= size) seen.clear();
      v = fn(key);
      seen.set(key, v);
    }
    return v;
  };
}

/** Whether a string names an IANA time zone this runtime knows. */
export const isTimeZone: (tz: string) => boolean = remembered(1_000, (tz) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
});

/** UTC, GMT and their aliases: zones where local time is UTC all year. */
export function isUtcZone(tz: string | null | undefined): boolean {
  return !tz || /^(Etc\/)?(UTC|GMT|Zulu|UCT|Universal|GMT[+-]?0)$/i.test(tz);
}

/** The zone to format in: a known IANA zone, or UTC. */
export function zoneOrUtc(tz: string | null | undefined): string {
  return tz && !isUtcZone(tz) && isTimeZone(tz) ? tz : UTC;
}

// Browsers may report a zone by its old name; people know the new one.
const RENAMED: Record<string, string> = {
  "Asia/Calcutta": "Asia/Kolkata",
  "Asia/Saigon": "Asia/Ho_Chi_Minh",
  "Asia/Katmandu": "Asia/Kathmandu",
  "Asia/Rangoon": "Asia/Yangon",
  "Europe/Kiev": "Europe/Kyiv",
  "Atlantic/Faeroe": "Atlantic/Faroe",
  "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
  "Pacific/Truk": "Pacific/Chuuk",
};

/** The browser's (or server's) own zone, by its current name. */
export function localTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zoneOrUtc(RENAMED[zone] ?? zone);
}

// Building a DateTimeFormat costs far more than using one: keep one per use.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(
  locale: string,
  timeZone: string,
  options: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const id = `${locale} ${timeZone} ${JSON.stringify(options)}`;
  let f = formatters.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formatters.set(id, f);
  }
  return f;
}

const FIELDS: Intl.DateTimeFormatOptions = {
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};

const fieldsAt = remembered(1_000, (at: string) => {
  const [ms, timeZone] = at.split(" ");
  const out: Record<string, string> = {};
  for (
    const p of formatter("en-US", timeZone, FIELDS).formatToParts(Number(ms))
  ) {
    out[p.type] = p.value;
  }
  return out;
});

function fields(
  ms: number,
  timeZone: string,
): Readonly<Record<string, string>> {
  return fieldsAt(`${ms} ${timeZone}`);
}

// English locales tried in turn for a zone's abbreviation: en-US knows the
// American ones, en-GB the European ones (CET, BST), en-IN IST, en-AU AEST.
const ABBREVIATION_LOCALES = ["en-US", "en-GB", "en-IN", "en-AU"];

/** "EST", "CEST", "IST", "UTC"; "GMT+9" where English has no abbreviation. */
export function zoneAbbreviation(
  at: When,
  tz: string | null | undefined,
): string {
  const zone = zoneOrUtc(tz);
  return zone === UTC ? UTC : abbreviationAt(`${toMs(at)} ${zone}`);
}

const abbreviationAt = remembered(1_000, (at: string) => {
  const [text, zone] = at.split(" ");
  const ms = Number(text);
  let fallback = "";
  for (const locale of ABBREVIATION_LOCALES) {
    const name = formatter(locale, zone, { timeZoneName: "short" })
      .formatToParts(ms).find((p) => p.type === "timeZoneName")?.value ?? "";
    if (name && !/^(GMT|UTC)[+-−]/.test(name)) return name;
    fallback ||= name;
  }
  return fallback || zone;
});

/** "Tue, Dec 1, 2026, 04:00 EST": the time in `tz` (UTC when unknown). */
export function formatDateTime(at: When, tz?: string | null): string {
  const ms = toMs(at);
  const zone = zoneOrUtc(tz);
  const f = fields(ms, zone);
  return `${f.weekday}, ${f.month} ${f.day}, ${f.year}, ${f.hour}:${f.minute} ${
    zoneAbbreviation(ms, zone)
  }`;
}

/** "Dec 1, 04:00 EST": what a phone's lock screen has room for. */
export function formatShortDateTime(at: When, tz?: string | null): string {
  const ms = toMs(at);
  const zone = zoneOrUtc(tz);
  const f = fields(ms, zone);
  return `${f.month} ${f.day}, ${f.hour}:${f.minute} ${
    zoneAbbreviation(ms, zone)
  }`;
}

/** "04:00 EST" */
export function formatTime(at: When, tz?: string | null): string {
  const ms = toMs(at);
  const zone = zoneOrUtc(tz);
  const f = fields(ms, zone);
  return `${f.hour}:${f.minute} ${zoneAbbreviation(ms, zone)}`;
}

/** "Mon, Jan 5, 2026, 14:00 UTC" */
export function formatUtc(at: When): string {
  return formatDateTime(at, UTC);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A span as people say it: "45 min", "3 h 20 min", "27 h", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / MINUTE);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 10 * 60) {
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  const d = Math.floor(hours / 24);
  const h = hours % 24;
  return d < 10 && h ? `${d} d ${h} h` : `${Math.round(hours / 24)} d`;
}

/** "in 3 h", "in 25 min", "2 d ago", "now". */
export function formatRelative(at: When, now: number): string {
  const diff = toMs(at) - now;
  if (Math.abs(diff) < MINUTE / 2) return "now";
  const span = formatDuration(diff);
  return diff > 0 ? `in ${span}` : `${span} ago`;
}

/** "Tue, Dec 1, 2026, 04:00 EST (in 3 h)" */
export function formatWhen(at: When, tz: string | null, now: number): string {
  return `${formatDateTime(at, tz)} (${formatRelative(at, now)})`;
}

// --- the schedule form's wall-clock field ---------------------------------

const INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** `<input type="datetime-local">`'s value for an instant in `tz`: "2026-12-01T04:00". */
export function toZonedInput(at: When, tz: string | null | undefined): string {
  const ms = toMs(at);
  const p: Record<string, string> = {};
  for (
    const part of formatter("en-US", zoneOrUtc(tz), {
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(ms)
  ) p[part.type] = part.value;
  return `${p.year.padStart(4, "0")}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

function zoneOffsetMs(ms: number, zone: string): number {
  const wall = toZonedInput(ms, zone);
  const m = INPUT.exec(wall)!;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return asUtc - Math.floor(ms / MINUTE) * MINUTE;
}

export type ZonedInputResult =
  | { ok: true; ms: number; ambiguous: boolean }
  | { ok: false; reason: "invalid" | "skipped" };

/**
 * The instant a wall-clock time in `tz` names. A time the clocks skip (spring
 * forward) is `skipped`; one they pass twice (fall back) takes the earlier
 * and says it was `ambiguous`.
 */
export function fromZonedInput(
  value: string,
  tz: string | null | undefined,
): ZonedInputResult {
  const m = INPUT.exec(value.trim());
  if (!m) return { ok: false, reason: "invalid" };
  const [y, mo, d, h, mi] = [+m[1], +m[2], +m[3], +m[4], +m[5]];
  const naive = Date.UTC(y, mo - 1, d, h, mi);
  const check = new Date(naive);
  if (
    Number.isNaN(naive) || check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d || h > 23 || mi > 59
  ) return { ok: false, reason: "invalid" };
  const zone = zoneOrUtc(tz);
  const wanted = toZonedInput(naive, UTC);
  // Offsets a day either side cover the one transition a zone can have here.
  const candidates = [
    ...new Set([
      naive - zoneOffsetMs(naive - DAY, zone),
      naive - zoneOffsetMs(naive + DAY, zone),
      naive - zoneOffsetMs(naive, zone),
    ]),
  ].filter((ms) => toZonedInput(ms, zone) === wanted).sort((a, b) => a - b);
  if (candidates.length === 0) return { ok: false, reason: "skipped" };
  return { ok: true, ms: candidates[0], ambiguous: candidates.length > 1 };
}

/** The next quarter hour at least `aheadMs` from `now`: the form's default time. */
export function defaultScheduleTime(now: number, aheadMs = 2 * HOUR): number {
  const quarter = 15 * MINUTE;
  return Math.ceil((now + aheadMs) / quarter) * quarter;
}
