/**
 * The scheduled-action push payload and what the mobile app does with it.
 * Pure and dependency-light (zod only) so the app can import it as is.
 *
 * Registering the device: after sign-in the app sends its Expo token with
 * `POST /api/push-tokens {token}`. A device belongs to one account at a time
 * and is never moved silently: a token another account holds answers 409
 * (`{error}` says to sign out of that account first), so nobody can take
 * someone's pushes by sending their token. Signing out in the app must send
 * `DELETE /api/push-tokens {token}` (or `?token=`) before dropping the
 * session: that frees the device, and the next account signed in on the
 * phone registers it as usual.
 */
import { z } from "zod";

export const PUSH_EVENTS = [
  "scheduled_restart_notice",
  "scheduled_restart_cancelled",
  "scheduled_version_change_notice",
  "scheduled_version_change_cancelled",
  "scheduled_restart_rescheduled",
  "scheduled_version_change_rescheduled",
  "scheduled_restart_reminder",
  "scheduled_version_change_reminder",
  "scheduled_restart_done",
  "scheduled_version_change_done",
  "scheduled_restart_on_hold",
  "scheduled_version_change_on_hold",
] as const;
export type PushEvent = typeof PUSH_EVENTS[number];

export const PUSH_BODY_MAX = 100;

export const ScheduledActionPushDataSchema = z.object({
  type: z.literal("scheduled-action"),
  event: z.enum(PUSH_EVENTS),
  instanceId: z.string().min(1),
});
export type ScheduledActionPushData = z.infer<
  typeof ScheduledActionPushDataSchema
>;

export const ScheduledActionPushSchema = z.object({
  to: z.string().min(1),
  title: z.string().min(1),
  body: z.string().max(PUSH_BODY_MAX),
  data: ScheduledActionPushDataSchema,
  sound: z.literal("default"),
  priority: z.literal("high"),
});
export type ScheduledActionPush = z.infer<typeof ScheduledActionPushSchema>;

function dig(value: unknown, path: string[]): unknown {
  let v = value;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/**
 * Reads our data out of whatever the app holds: the data object itself, the
 * notification content, a received notification, or the tap response
 * (`getLastNotificationResponseAsync` on cold start). Anything that is not a
 * scheduled-action payload gives null; unknown extra fields are dropped.
 */
export function parseScheduledActionPush(
  value: unknown,
): ScheduledActionPushData | null {
  const candidates = [
    [],
    ["data"],
    ["request", "content", "data"],
    ["notification", "request", "content", "data"],
  ];
  for (const path of candidates) {
    const r = ScheduledActionPushDataSchema.safeParse(dig(value, path));
    if (r.success) return r.data;
  }
  return null;
}

/**
 * Whether to show the alert while the app is in the foreground: not when the
 * user is already looking at that instance's chat. Payloads that are not ours
 * are none of this module's business, so they show.
 */
export function shouldShowForegroundAlert(
  value: unknown,
  openChatInstanceId: string | null,
): boolean {
  const data = parseScheduledActionPush(value);
  if (!data) return true;
  return data.instanceId !== openChatInstanceId;
}

/** Where a tap (or a cold start from a tap) takes the user; null when the payload is not ours. */
export function tapRoute(value: unknown): string | null {
  const data = parseScheduledActionPush(value);
  return data ? `/chat/${encodeURIComponent(data.instanceId)}` : null;
}
