/**
 * What a paused rollout does to the owners of its later waves. The pause
 * commit (lib/apply/gate.ts) already made every claim of their warnings
 * lose (it changed the action the claim checks) and the sweep defers the
 * warnings of a paused action; this walk then, one atomic operation per
 * target checked by versionstamp:
 * - holds each pending warning (its due time becomes `HELD_DUE_AT`, so no
 *   sweep reads it again until a resume re-times it);
 * - queues one `on_hold` notice per channel that warned the owner (or may
 *   have), due once their time is within the notice lead: "nothing happens
 *   at the time you were told, a new time follows".
 * A target with a warning being sent right now is left for the apply tick,
 * which finishes the walk once that warning is marked; the marker goes when
 * no target is left to hold.
 */
import { keys } from "../kv/keys.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import {
  allTargetIdsOfAction,
  getStageEntries,
  getTargetEntries,
} from "../kv/actions.ts";
import {
  addNewRow,
  HELD_DUE_AT,
  onHoldRowFor,
  readTargetRows,
  warningInFlight,
} from "../notices/rows.ts";
import { asFailed, putRow } from "../notices/row_status.ts";
import { noticeDueAt } from "../due_times.ts";
import { forEachLimited } from "../kv/commits.ts";
import {
  type Channel,
  isWarning,
  type Notification,
  type ScheduledAction,
  type Stage,
  type Target,
} from "../types.ts";

/** Value of `keys.actionPausing`: the pause whose hold is not finished yet. */
export interface PausingMarker {
  at: string;
  /** The wave whose gate paused the rollout. */
  stageIndex: number;
}

export const PAUSED_AFTER_UNCERTAIN_DELIVERY =
  "rollout paused after a delivery attempt whose outcome is unknown; an on-hold notice follows";

type HoldOutcome = "held" | "in_flight" | "left";

/**
 * Holds the warnings of every pending target in a wave not yet started.
 * Safe to run again (the apply tick does while the marker is there).
 */
export async function finishPause(
  deps: { kv: Deno.Kv; now: () => number },
  actionId: string,
): Promise<{ held: number; inFlight: number }> {
  const { kv } = deps;
  const report = { held: 0, inFlight: 0 };
  const marker = await kv.get<PausingMarker>(keys.actionPausing(actionId));
  if (!marker.value) return report;
  const action = await kv.get<ScheduledAction>(keys.action(actionId));
  if (action.value?.status === "paused") {
    const later = new Set(
      (await getStageEntries(kv, actionId))
        .filter((s) => s.value.status === "pending")
        .map((s) => s.value.index),
    );
    const ids = await allTargetIdsOfAction(kv, actionId);
    for (let i = 0; i < ids.length; i += 200) {
      const pending = (await getTargetEntries(kv, ids.slice(i, i + 200)))
        .filter((e) =>
          e.value.status === "pending" && later.has(e.value.stageIndex)
        );
      await forEachLimited(pending, 8, async (e) => {
        const outcome = await holdTarget(deps, e.value.id);
        if (outcome === "held") report.held++;
        else if (outcome === "in_flight") report.inFlight++;
      });
    }
  }
  // Done, or nothing left to hold (resumed or cancelled meanwhile).
  if (action.value?.status !== "paused" || report.inFlight === 0) {
    await kv.atomic().check(marker).delete(keys.actionPausing(actionId))
      .commit();
  }
  return report;
}

async function holdTarget(
  deps: { kv: Deno.Kv; now: () => number },
  targetId: string,
): Promise<HoldOutcome> {
  const { kv } = deps;
  return await conditionalWrite<HoldOutcome>(`target ${targetId}`, async () => {
    const t = await kv.get<Target>(keys.target(targetId));
    if (t.value?.status !== "pending") return { done: "left" };
    const [action, stage] = await kv.getMany<[ScheduledAction, Stage]>([
      keys.action(t.value.actionId),
      keys.stage(t.value.actionId, t.value.stageIndex),
    ]);
    if (
      action.value?.status !== "paused" || stage.value?.status !== "pending"
    ) {
      return { done: "left" };
    }
    const rows = await readTargetRows(kv, targetId);
    if (
      warningInFlight(rows)
    ) {
      return { done: "in_flight" };
    }
    const now = deps.now();
    const onHoldDue = Math.max(now, noticeDueAt(action.value, stage.value));
    return {
      write: () =>
        addHoldMutations(kv.atomic().check(t, action, stage), rows, {
          now,
          onHoldDue,
          heldTime: stage.value!.scheduledAt,
        }),
      result: "held",
    };
  });
}

/**
 * One target's rows on hold: pending warnings wait for a resume; each channel
 * that warned the owner gets one on-hold notice for this time.
 */
function addHoldMutations(
  op: Deno.AtomicOperation,
  rows: Deno.KvEntry<Notification>[],
  o: { now: number; onHoldDue: number; heldTime: string },
): Deno.AtomicOperation {
  const at = new Date(o.now).toISOString();
  const onHold = new Map<Channel, Deno.KvEntry<Notification>>();
  for (const e of rows) {
    if (e.value.kind === "on_hold") onHold.set(e.value.channel, e);
  }
  const warnedOn = new Map<Channel, Notification>();
  for (const e of rows) {
    const row = e.value;
    if (!isWarning(row.kind)) continue;
    if (row.status === "pending") {
      if (row.groupId !== null || row.deliveryUncertain) {
        // Its key is bound to what it said, or it may have arrived: fail it, tell of the hold.
        putRow(
          op.check(e),
          row,
          asFailed(row, PAUSED_AFTER_UNCERTAIN_DELIVERY, o.now),
        );
        warnedOn.set(row.channel, row);
      } else if (row.dueAt !== HELD_DUE_AT) {
        putRow(op.check(e), row, { ...row, dueAt: HELD_DUE_AT, updatedAt: at });
      }
    } else if (
      row.status === "sent" ||
      (row.status === "failed" && row.deliveryUncertain)
    ) warnedOn.set(row.channel, row);
  }
  for (const [channel, warning] of warnedOn) {
    const prev = onHold.get(channel);
    if (!prev) {
      addNewRow(op, onHoldRowFor(warning, o.heldTime, o.onHoldDue, o.now));
      continue;
    }
    // A hold already announced for this very time says nothing new.
    if (prev.value.movedFrom === o.heldTime) continue;
    const r = prev.value;
    if (r.status === "sending") {
      op.check(prev);
      continue;
    }
    putRow(op.check(prev), r, {
      ...r,
      status: "pending",
      dueAt: o.onHoldDue,
      attempts: 0,
      groupId: null,
      claimId: null,
      claimedAt: null,
      sentAt: null,
      error: null,
      deliveryUncertain: false,
      movedFrom: o.heldTime,
      updatedAt: at,
    });
  }
  return op;
}
