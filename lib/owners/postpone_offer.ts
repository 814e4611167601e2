/**
 * The owner's postpone offer for one instance: whether its pending change may
 * be postponed now (the engine's own rule, `postponeRefusal`), between which
 * times, how many times more, and the owner's next window starts to suggest.
 */
import { keys } from "../kv/keys.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import type { ScheduledAction, Stage, Target } from "../types.ts";
import { POSTPONE_MARGIN_MS, postponeRefusal } from "../scheduler/postpone.ts";
import { getOwnerSettings } from "./settings.ts";
import { windowStartsBetween } from "./maintenance_window.ts";
import type { PostponeOffer } from "./postpone_offer_model.ts";

export type { PostponeOffer };

/** How many window starts the picker suggests. */
const SUGGESTED_STARTS = 6;
const MINUTE_MS = 60_000;

/** The offer for the instance's pending change, or null when none is pending. */
export async function postponeOffer(
  kv: Deno.Kv,
  instanceId: string,
  ownerId: string,
  now: number,
): Promise<PostponeOffer | null> {
  const lock = await kv.get<PendingTargetLock>(
    keys.instancePendingTarget(instanceId),
  );
  if (!lock.value) return null;
  const [action, target] = await kv.getMany<[ScheduledAction, Target]>([
    keys.action(lock.value.actionId),
    keys.target(lock.value.targetId),
  ]);
  if (!action.value || !target.value) return null;
  const stage = await kv.get<Stage>(
    keys.stage(action.value.id, target.value.stageIndex),
  );
  if (!stage.value) return null;
  const a = action.value;
  const at = Date.parse(stage.value.scheduledAt);
  const reason = postponeRefusal(a, stage.value, target.value, now);
  // A postpone moves later: at least an hour from now and a minute past its time.
  const earliest = Math.ceil(
    Math.max(now + POSTPONE_MARGIN_MS, at + MINUTE_MS) / MINUTE_MS,
  ) * MINUTE_MS;
  const until = a.ownerMayPostpone?.until ?? null;
  let windowStarts: string[] = [];
  if (!reason && until) {
    const settings = await getOwnerSettings(kv, ownerId).catch(() => null);
    windowStarts = settings?.maintenanceWindow
      ? windowStartsBetween(
        settings.maintenanceWindow,
        settings.timeZone ?? "UTC",
        earliest,
        Date.parse(until),
      ).slice(0, SUGGESTED_STARTS).map((ms) => new Date(ms).toISOString())
      : [];
  }
  return {
    allowed: reason === null && until !== null &&
      earliest <= Date.parse(until),
    reason: reason ??
      (until && earliest > Date.parse(until)
        ? "there is no later time it may be postponed to"
        : null),
    scheduledAt: stage.value.scheduledAt,
    until,
    left: a.ownerMayPostpone
      ? Math.max(0, a.ownerMayPostpone.times - (target.value.postpones ?? 0))
      : 0,
    earliest: new Date(earliest).toISOString(),
    windowStarts,
  };
}
