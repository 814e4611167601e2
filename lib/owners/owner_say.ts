/**
 * What the admin's action page says of the owners' say: the times owners'
 * windows gave (with how many instances each) and how many instances their
 * owners postponed, to when. Read from the stages and their counters: a
 * stage an owner's postpone made is marked `origin: "postponed"`.
 */
import { getStageCounts, getStageEntries } from "../kv/actions.ts";
import type { ScheduledAction } from "../types.ts";

export interface StageTime {
  at: string;
  instances: number;
}

export interface OwnerSay {
  /** The action's owner-window range, when it was scheduled into windows. */
  windows: { notBefore: string; deadline: string; times: StageTime[] } | null;
  /** null: urgent, owners could not postpone. */
  mayPostpone: { until: string; times: number } | null;
  /** Instances now at a time their owner chose, and those times. */
  postponed: { instances: number; times: StageTime[] };
}

/** null when the owners had no say (one time for all, urgent). */
export async function getOwnerSay(
  kv: Deno.Kv,
  action: ScheduledAction,
): Promise<OwnerSay | null> {
  if (!action.timing && !action.ownerMayPostpone) return null;
  const [stages, counts] = await Promise.all([
    getStageEntries(kv, action.id),
    getStageCounts(kv, action.id),
  ]);
  const timeOf = (planned: boolean) =>
    stages.map((e) => e.value)
      .filter((s) => (s.origin === "postponed") !== planned)
      .map((s) => ({
        at: s.scheduledAt,
        instances: counts.get(s.index)?.total ?? 0,
      }))
      .filter((t) => t.instances > 0)
      .sort((a, b) => a.at.localeCompare(b.at));
  const postponed = timeOf(false);
  return {
    windows: action.timing
      ? {
        notBefore: action.timing.notBefore,
        deadline: action.timing.deadline,
        times: timeOf(true),
      }
      : null,
    mayPostpone: action.ownerMayPostpone ?? null,
    postponed: {
      instances: postponed.reduce((n, t) => n + t.instances, 0),
      times: postponed,
    },
  };
}
