/**
 * "Add to calendar": an iCalendar event for one target's maintenance, at a
 * signed link that needs no sign-in (`/calendar/:targetId/:token.ics`). The
 * token is an HMAC of the target id under a key kept in KV, so links are
 * stable across processes and re-sends. The event follows the action: a move
 * keeps its UID and raises its SEQUENCE, a cancel cancels it, and the link
 * stops answering a day after the time (or once the action is gone).
 */
import { createHmac } from "node:crypto";
import { keys } from "./kv/keys.ts";
import { signingKey } from "./kv/signing_keys.ts";
import { secretsEqual } from "./auth/compare.ts";
import { formatUtc } from "./format.ts";
import { oneLine } from "./text.ts";
import type {
  CatalogEntry,
  Instance,
  ScheduledAction,
  Stage,
  Target,
} from "./types.ts";

/** A link stays valid this long after the action's time. */
export const CALENDAR_GRACE_MS = 24 * 3_600_000;
const EVENT_MINUTES = 15;

/** Signs targets' calendar links (the key read once). */
export async function calendarSigner(
  kv: Deno.Kv,
): Promise<(targetId: string) => string> {
  const key = (await signingKey(kv, "calendar_signing_key"))!;
  return (targetId) => sign(key, targetId);
}

/** HMAC-SHA256 of the target id, base64url, 32 characters (node:crypto: synchronous, and cheap per call). */
function sign(key: Uint8Array, targetId: string): string {
  return createHmac("sha256", key).update(`calendar:${targetId}`)
    .digest("base64url").slice(0, 32);
}

export function calendarUrl(
  publicUrl: string,
  targetId: string,
  token: string,
): string {
  return `${publicUrl.replace(/\/+$/, "")}/calendar/${
    encodeURIComponent(targetId)
  }/${token}.ics`;
}

/** iCalendar TEXT escaping, on one line. */
function text(s: string): string {
  return oneLine(s).replace(/[\\;,]/g, (c) => `\\${c}`);
}

const stamp = (ms: number) =>
  new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

/** Lines longer than 75 octets continue on the next line after a space (RFC 5545 §3.1). */
function fold(line: string): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let current = "";
  let size = 0;
  for (const ch of line) {
    const n = new TextEncoder().encode(ch).length;
    if (size + n > (parts.length ? 74 : 75)) {
      parts.push(current);
      current = "";
      size = 0;
    }
    current += ch;
    size += n;
  }
  parts.push(current);
  return parts.join("\r\n ");
}

export interface CalendarParts {
  action: ScheduledAction;
  stage: Stage;
  target: Target;
  instance: Instance | null;
  catalog: CatalogEntry | null;
  workspaceUrl: string;
  now: number;
}

/** The event, cancelled when the action or this target was called off. */
export function calendarEvent(p: CalendarParts): string {
  const cancelled = p.action.status === "cancelled" ||
    (p.target.status === "skipped" && p.target.skipReason === "cancelled");
  const start = Date.parse(p.stage.scheduledAt);
  const name = p.instance?.name ?? p.target.instanceId;
  const what = p.action.actionType === "version_change"
    ? `upgrade to ${
      p.catalog
        ? `OpenClaw ${p.catalog.openclawVersion}`
        : p.target.targetImageTag
    }`
    : "restart";
  const sequence = (p.action.calendarSequence ?? 0) + (cancelled ? 1 : 0);
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//KiloClaw//Scheduler//EN",
    `METHOD:${cancelled ? "CANCEL" : "PUBLISH"}`,
    "BEGIN:VEVENT",
    `UID:${p.target.id}@kiloclaw`,
    `SEQUENCE:${sequence}`,
    `DTSTAMP:${stamp(p.now)}`,
    `DTSTART:${stamp(start)}`,
    `DTEND:${stamp(start + EVENT_MINUTES * 60_000)}`,
    `SUMMARY:${text(`KiloClaw: ${name} – ${what}`)}`,
    `DESCRIPTION:${
      text(
        cancelled
          ? `Cancelled: the ${what} planned for ${
            formatUtc(p.stage.scheduledAt)
          } will not happen.`
          : `Your KiloClaw bot ${name} will be unavailable for a few minutes (${what}).`,
      )
    }`,
    `URL:${p.workspaceUrl}`,
    `STATUS:${cancelled ? "CANCELLED" : "CONFIRMED"}`,
    "END:VEVENT",
    "END:VCALENDAR",
  ];
  return lines.map(fold).join("\r\n") + "\r\n";
}

export type CalendarAnswer =
  | { status: 200; body: string }
  | { status: 404 }
  | { status: 410 };

/** The event behind a link: 404 for a bad token or unknown target, 410 once it expired with the action. */
export async function readCalendar(
  kv: Deno.Kv,
  targetId: string,
  token: string,
  o: { now: number; workspaceUrl: (instanceId: string) => string },
): Promise<CalendarAnswer> {
  // No link was ever sent before the key exists: nothing to find, nothing written.
  const key = await signingKey(kv, "calendar_signing_key", false);
  if (!key || !(await secretsEqual(token, sign(key, targetId)))) {
    return { status: 404 };
  }
  const target = (await kv.get<Target>(keys.target(targetId))).value;
  if (!target) return { status: 410 };
  const [action, stage, instance, catalog] = await kv.getMany<
    [ScheduledAction, Stage, Instance, CatalogEntry]
  >([
    keys.action(target.actionId),
    keys.stage(target.actionId, target.stageIndex),
    keys.instance(target.instanceId),
    keys.catalogEntry(target.targetImageTag),
  ]);
  if (!action.value || !stage.value) return { status: 410 };
  // A large action still being written is not the owner's business yet.
  if (action.value.status === "preparing") return { status: 404 };
  if (o.now > Date.parse(stage.value.scheduledAt) + CALENDAR_GRACE_MS) {
    return { status: 410 };
  }
  return {
    status: 200,
    body: calendarEvent({
      action: action.value,
      stage: stage.value,
      target,
      instance: instance.value,
      catalog: catalog.value,
      workspaceUrl: o.workspaceUrl(target.instanceId),
      now: o.now,
    }),
  };
}
