/**
 * A notification's parents (action, stage, target): reading them for a set of
 * rows, and the rules that decide whether a notice may still go out.
 */
import { keys } from "../kv/keys.ts";
import { type SharedReads, sharedReads } from "../kv/batched_reads.ts";
import { isActionVisible } from "../kv/actions.ts";
export { actionWriteState, isActionVisible } from "../kv/actions.ts";
import {
  CANCELLED_AFTER_UNCERTAIN_DELIVERY,
  CANCELLED_BEFORE_DISPATCH,
} from "./rows.ts";
import { reminderDueAt, warningDueAt } from "../due_times.ts";
import { isActionOpen, isStageLive, isWarning } from "../types.ts";
import type {
  ActionType,
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";

export const PARENT_CHANGED =
  "parent state changed before notice was dispatched";

/** DESIGN rule 3: a row whose user record is gone fails with this, on every channel. */
export function userRecordMissing(userId: string): string {
  return `user record missing for user_id=${userId}`;
}

/** DESIGN rule 9: a warning is never sent once its action's time has come. */
export function tooLate(actionType: ActionType): string {
  const what = actionType === "version_change" ? "version change" : "restart";
  return `too late: the ${what} time passed before the notice could be sent`;
}

/** Has the action time of this notice come? (Cancellations have none.) */
export function isTooLate(
  row: Pick<Notification, "kind">,
  stage: Pick<Stage, "scheduledAt"> | null,
  now: number,
): boolean {
  return isWarning(row.kind) && stage !== null &&
    Date.parse(stage.scheduledAt) <= now;
}

/**
 * A row older than this whose action never became visible, and whose write
 * the scheduler counts as abandoned, is an orphan of a crashed write; younger
 * ones may belong to a write still in progress and are left alone.
 */
export const ORPHAN_AFTER_MS = 15 * 60_000;

/** DESIGN rule 1: a notice may fire only while nothing downstream has moved on. */
export function noticeMayFire(
  action: ScheduledAction,
  stage: Stage,
  target: Target,
): boolean {
  return isActionOpen(action) && isStageLive(stage) &&
    target.status === "pending";
}

/** The whole action, or just this target, was called off. */
export function parentCancelled(
  action: ScheduledAction | null,
  target: Target | null,
): boolean {
  return action?.status === "cancelled" ||
    (target?.status === "skipped" && target.skipReason === "cancelled");
}

export const REMINDER_SUPERSEDED =
  "skipped: a later reminder was already due when this one could be sent";

/** A reminder whose next (closer) reminder is due too is skipped: one reminder, never two at once. */
function laterReminderDue(
  row: Notification,
  action: ScheduledAction,
  stage: Stage,
  now: number,
): boolean {
  const own = row.reminderLeadHours ?? 0;
  return (action.reminderLeadHours ?? []).some((h) =>
    h < own && reminderDueAt(h, stage) <= now
  );
}

export type Verdict =
  | { kind: "claim" }
  | { kind: "defer" }
  /** Fail the row now; `followUp` queues its cancellation (it may have reached the user). */
  | { kind: "void"; error: string; followUp: boolean }
  | { kind: "orphan" };

/** What the sweep does with a due pending row, given its parents (DESIGN rules 1, 4, 9). */
export function verdictFor(
  row: Notification,
  parents: ParentEntries,
  now: number,
): Verdict {
  const { action, stage, target } = parents;
  if (!isActionVisible(action)) {
    return now - Date.parse(row.createdAt) > ORPHAN_AFTER_MS
      ? { kind: "orphan" }
      : { kind: "defer" };
  }
  // A large action still being written: nothing goes out before it is whole.
  if (action.value.status === "preparing") return { kind: "defer" };
  // Re-timed since the sweep read it (a move): not due yet. Rows of a
  // waiting email group come due together and are judged as a group.
  if (row.groupId === null && row.dueAt > now) return { kind: "defer" };
  // A cancellation announces itself whatever its parents became (rule 1);
  // so does a done notice, written with the target's final status, and an
  // on-hold notice (a resume or a cancel retires it while still pending).
  if (
    row.kind === "cancelled" || row.kind === "done" || row.kind === "on_hold"
  ) return { kind: "claim" };
  if (parentCancelled(action.value, target.value)) {
    // An earlier attempt may have reached the user: its cancellation follows.
    return row.deliveryUncertain
      ? {
        kind: "void",
        error: CANCELLED_AFTER_UNCERTAIN_DELIVERY,
        followUp: true,
      }
      : { kind: "void", error: CANCELLED_BEFORE_DISPATCH, followUp: false };
  }
  // A paused rollout: its warnings wait (the pause holds them, and a resume
  // gives them their new time); its time may pass meanwhile without making
  // them late.
  if (action.value.status === "paused" && isWarning(row.kind)) {
    return { kind: "defer" };
  }
  if (isTooLate(row, stage.value, now)) {
    return {
      kind: "void",
      error: tooLate(action.value.actionType),
      followUp: false,
    };
  }
  if (
    !stage.value || !target.value ||
    !noticeMayFire(action.value, stage.value, target.value)
  ) {
    return { kind: "void", error: PARENT_CHANGED, followUp: false };
  }
  // The action moved later and the move has not re-timed this row yet
  // (reschedule.ts does, or the apply tick): not due at the new time.
  if (
    row.kind === "reminder" &&
    laterReminderDue(row, action.value, stage.value, now)
  ) {
    return { kind: "void", error: REMINDER_SUPERSEDED, followUp: false };
  }
  const expected = warningDueAt(row, action.value, stage.value);
  if (expected !== null && row.dueAt < expected) return { kind: "defer" };
  return { kind: "claim" };
}

export interface ParentEntries {
  action: Deno.KvEntryMaybe<ScheduledAction>;
  stage: Deno.KvEntryMaybe<Stage>;
  target: Deno.KvEntryMaybe<Target>;
}

const stageId = (actionId: string, index: number) =>
  `${actionId}\u0000${index}`;

/**
 * Reads the parents of every row, each distinct record once (once for all
 * who share `reads`, which may then be a little older than the call; by
 * default the reads are this call's own).
 */
export async function readParents(
  kv: Deno.Kv,
  rows: Notification[],
  reads: SharedReads = sharedReads(kv),
): Promise<Map<string, ParentEntries>> {
  const targetIds = [...new Set(rows.map((r) => r.targetId))];
  const [actions, stages, targetEntries] = await Promise.all([
    reads.byId<ScheduledAction>(rows.map((r) => r.actionId), keys.action),
    reads.byId<Stage>(
      rows.map((r) => stageId(r.actionId, r.stageIndex)),
      (id) => {
        const [actionId, index] = id.split("\u0000");
        return keys.stage(actionId, Number(index));
      },
    ),
    // A schedule writes its targets in order: most are read in one range.
    reads.nearby<Target>(keys.targets(), targetIds),
  ]);
  const targets = new Map(targetIds.map((id, i) => [id, targetEntries[i]]));
  const out = new Map<string, ParentEntries>();
  for (const r of rows) {
    out.set(r.id, {
      action: actions.get(r.actionId)!,
      stage: stages.get(stageId(r.actionId, r.stageIndex))!,
      target: targets.get(r.targetId)!,
    });
  }
  return out;
}
