/**
 * Scheduling into owners' maintenance windows: each instance's time is its
 * owner's first window start in [notBefore, deadline], or notBefore when the
 * owner has no window or none starts in that range. Instances sharing a time
 * share a stage; stages are ordered by time and wait for no other stage.
 */
import { keys } from "../kv/keys.ts";
import { getManyNearby } from "../kv/batched_reads.ts";
import type { Instance, MaintenanceWindow, User } from "../types.ts";
import type { PlannedWave } from "../scheduler/waves.ts";
import { firstWindowStart } from "./maintenance_window.ts";
import type { StoredPreferences } from "./settings.ts";

/** What the plan needs of an owner: their zone and window. */
export interface OwnerWindow {
  timeZone: string;
  window: MaintenanceWindow | null;
}

/**
 * Each owner's zone and window. Owners made in order (UUIDv7 ids) sit side
 * by side, so a fleet's owners are read as ranges, the rest by `getMany`
 * (`getManyNearby`). An owner without a zone is read in UTC; a missing user
 * has no window (their instance runs at notBefore, as one with "any time"
 * does).
 */
export async function readOwnerWindows(
  kv: Deno.Kv,
  ownerIds: Iterable<string>,
): Promise<Map<string, OwnerWindow>> {
  const ids = [...new Set(ownerIds)];
  const [users, prefs] = await Promise.all([
    getManyNearby<User>(kv, keys.users(), ids),
    getManyNearby<StoredPreferences>(kv, USER_SETTINGS_PREFIX, ids),
  ]);
  const out = new Map<string, OwnerWindow>();
  ids.forEach((id, k) => {
    const user = users[k].value;
    out.set(id, {
      timeZone: user?.timeZone ?? "UTC",
      window: user ? prefs[k].value?.maintenanceWindow ?? null : null,
    });
  });
  return out;
}

/** Where the settings records sit: `keys.userSettings(id)` without its id. */
const USER_SETTINGS_PREFIX = keys.userSettings("").slice(0, -1);

export interface WindowPlan {
  /** One stage per distinct time, earliest first. */
  waves: PlannedWave[];
  /** Instances at notBefore because their owner has no window in the range. */
  fellBack: number;
}

/** The stages of an owner-window schedule: a pure function of its inputs. */
export function planOwnerWindows(
  instances: Pick<Instance, "id" | "ownerId">[],
  owners: ReadonlyMap<string, OwnerWindow>,
  notBeforeMs: number,
  deadlineMs: number,
): WindowPlan {
  const timeOfOwner = new Map<string, number | null>();
  // Owners share zones and windows: the zone arithmetic is done once per kind.
  const timeOfWindow = new Map<string, number | null>();
  const byTime = new Map<number, string[]>();
  let fellBack = 0;
  for (const inst of instances) {
    let at = timeOfOwner.get(inst.ownerId);
    if (at === undefined) {
      const o = owners.get(inst.ownerId);
      const kind = o?.window
        ? `${o.timeZone}|${o.window.days.join(",")}|${o.window.startHour}`
        : "";
      at = timeOfWindow.get(kind);
      if (at === undefined) {
        at = o
          ? firstWindowStart(o.window, o.timeZone, notBeforeMs, deadlineMs)
          : null;
        timeOfWindow.set(kind, at);
      }
      timeOfOwner.set(inst.ownerId, at);
    }
    if (at === null) fellBack++;
    const time = at ?? notBeforeMs;
    const list = byTime.get(time);
    if (list) list.push(inst.id);
    else byTime.set(time, [inst.id]);
  }
  const waves = [...byTime.entries()].sort(([a], [b]) => a - b)
    .map(([time, instanceIds], index) => ({
      index,
      scheduledAt: new Date(time).toISOString(),
      soakMinutes: 0,
      instanceIds,
      expectedApplyMinutes: 0,
    }));
  return { waves, fellBack };
}
