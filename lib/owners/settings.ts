/**
 * An owner's settings in KV: the preferences in their own record
 * (`userSettings`), the time zone on the user record, both written in one
 * atomic operation so nobody ever reads one without the other.
 */
import { keys } from "../kv/keys.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import { addAuditWrite } from "../kv/audit.ts";
import { NotFoundError } from "../errors.ts";
import type {
  AuditEntry,
  MaintenanceWindow,
  OwnerSettings,
  QuietHours,
  User,
  WarningChannels,
} from "../types.ts";
import { describeWindow } from "./maintenance_window.ts";

/** What is stored beside the user record. */
export interface StoredPreferences {
  maintenanceWindow: MaintenanceWindow | null;
  channels: WarningChannels;
  quietHours: QuietHours | null;
  updatedAt: string;
}

/** A user who never saved settings: any time, every channel on, no quiet hours. */
export const DEFAULT_PREFERENCES: Omit<StoredPreferences, "updatedAt"> = {
  maintenanceWindow: null,
  channels: { email: true, mobile_push: true },
  quietHours: null,
};

/** The preferences as the sweep and pages read them: the defaults when none are stored. */
export function preferencesOf(
  stored: StoredPreferences | null | undefined,
): Omit<StoredPreferences, "updatedAt"> {
  return stored
    ? {
      maintenanceWindow: stored.maintenanceWindow,
      channels: { ...DEFAULT_PREFERENCES.channels, ...stored.channels },
      quietHours: stored.quietHours,
    }
    : DEFAULT_PREFERENCES;
}

function settingsOf(
  user: User,
  stored: StoredPreferences | null,
): OwnerSettings {
  return { timeZone: user.timeZone, ...preferencesOf(stored) };
}

/** The user's settings; 404 when the user does not exist. */
export async function getOwnerSettings(
  kv: Deno.Kv,
  userId: string,
): Promise<OwnerSettings> {
  const [user, stored] = await kv.getMany<[User, StoredPreferences]>([
    keys.user(userId),
    keys.userSettings(userId),
  ]);
  if (!user.value) throw new NotFoundError(`user ${userId} not found`);
  return settingsOf(user.value, stored.value);
}

/** How the audit says each setting ("Tue 02:00 for 3 h", "email, push"). */
export function settingsWords(s: OwnerSettings): Record<string, string> {
  const on = (["email", "mobile_push"] as const).filter((c) => s.channels[c])
    .map((c) => c === "email" ? "email" : "push");
  return {
    timeZone: s.timeZone ?? "none",
    maintenanceWindow: describeWindow(s.maintenanceWindow),
    channels: on.length ? on.join(", ") : "banner only",
    quietHours: s.quietHours
      ? `${s.quietHours.start}–${s.quietHours.end}`
      : "none",
  };
}

/** The settings that differ, as `[before, after]` in words. */
function changedSettings(
  prev: OwnerSettings,
  next: OwnerSettings,
): Record<string, [string, string]> {
  const a = settingsWords(prev);
  const b = settingsWords(next);
  const out: Record<string, [string, string]> = {};
  for (const k of Object.keys(b)) if (a[k] !== b[k]) out[k] = [a[k], b[k]];
  return out;
}

/**
 * Saves all four settings of a user: the zone on the user record and the
 * preferences beside it, in one atomic operation checked against both.
 * `audit` (an admin's edit) is written in the same operation.
 */
export async function putOwnerSettings(
  kv: Deno.Kv,
  userId: string,
  input: OwnerSettings,
  now: number,
  audit?: (details: Record<string, unknown>) => AuditEntry,
): Promise<OwnerSettings> {
  return await conditionalWrite(`user ${userId}`, async () => {
    const [user, stored] = await kv.getMany<[User, StoredPreferences]>([
      keys.user(userId),
      keys.userSettings(userId),
    ]);
    if (!user.value) throw new NotFoundError(`user ${userId} not found`);
    const at = new Date(now).toISOString();
    const nextUser: User = { ...user.value, timeZone: input.timeZone };
    if (nextUser.timeZone !== user.value.timeZone) nextUser.updatedAt = at;
    const next: StoredPreferences = {
      maintenanceWindow: input.maintenanceWindow,
      channels: { ...input.channels },
      quietHours: input.quietHours,
      updatedAt: at,
    };
    const result = settingsOf(nextUser, next);
    return {
      write: () => {
        const op = kv.atomic().check(user, stored)
          .set(keys.user(userId), nextUser)
          .set(keys.userSettings(userId), next);
        if (audit) {
          addAuditWrite(
            op,
            audit(
              changedSettings(settingsOf(user.value!, stored.value), result),
            ),
          );
        }
        return op;
      },
      result,
    };
  });
}

export type WarningChannel = keyof WarningChannels;

/**
 * Turns one channel's warnings off (the one-click unsubscribe). Idempotent:
 * already off, nothing is written. Returns false when the user is gone.
 */
export async function turnOffChannel(
  kv: Deno.Kv,
  userId: string,
  channel: WarningChannel,
  now: number,
): Promise<boolean> {
  return await conditionalWrite<boolean>(`user ${userId}`, async () => {
    const [user, stored] = await kv.getMany<[User, StoredPreferences]>([
      keys.user(userId),
      keys.userSettings(userId),
    ]);
    if (!user.value) return { done: false };
    const prefs = preferencesOf(stored.value);
    if (!prefs.channels[channel]) return { done: true };
    const next: StoredPreferences = {
      ...prefs,
      channels: { ...prefs.channels, [channel]: false },
      updatedAt: new Date(now).toISOString(),
    };
    return {
      write: () =>
        kv.atomic().check(user, stored).set(keys.userSettings(userId), next),
      result: true,
    };
  });
}
