/**
 * A target's status changes. `putTarget` is the one place that writes a
 * target, and it moves the target's index keys with it in the same atomic
 * operation, so no index can outlive or miss its target:
 *
 * - `instance_pending_target`: held from creation while the target is pending
 *   or running (the creator checks the instance is free), let go when it ends;
 * - `targets_running`: present exactly while it runs, keyed by its claim time;
 * - `targets_by_action`, `targets_by_instance`: from creation to discard;
 * - `targets_by_outcome`: one key per target under its current outcome,
 *   moved with each status change, from creation to discard; a new target
 *   also marks its action as indexed (`targets_by_outcome_ready`);
 * - the action's and its stage's counters: a target counts once, when it
 *   ends; a cancelled one also counts as `cancelled`, so progress can tell
 *   it from a skip.
 */
import { keys } from "../kv/keys.ts";
import { addToCounter, addToStageCounter } from "../kv/actions.ts";
import {
  outcomeOf,
  type SkipReason,
  type Target,
  type TargetStatus,
} from "../types.ts";

/**
 * What a new target costs in `putTarget`'s operation: its instance's lock,
 * the record, its three index keys and its action's index marker. Whoever
 * packs new targets into commits counts this.
 */
export const MUTATIONS_PER_NEW_TARGET = 6;
/**
 * The most a status change of a target costs in `putTarget`'s operation:
 * the record, its running key and outcome key moved, its lock let go, and
 * the action's and stage's counters (a cancel counts twice).
 */
export const MUTATIONS_PER_TARGET_CHANGE = 9;
/** What discarding a target costs, without its lock: the record and its three index keys. */
export const MUTATIONS_PER_REMOVED_TARGET = 4;

const ENDED: ReadonlySet<TargetStatus> = new Set([
  "applied",
  "skipped",
  "failed",
]);

/** Applied, skipped or failed: nothing will change it any more. */
export function hasEnded(t: Target): boolean {
  return ENDED.has(t.status);
}

const runningKey = (t: Target) =>
  keys.targetRunning(Date.parse(t.claimedAt!), t.id);

const outcomeKey = (t: Target) =>
  keys.targetByOutcome(t.actionId, outcomeOf(t), t.id);

/** The actions whose "outcomes indexed" marker an operation already sets. */
const markedIn = new WeakMap<Deno.AtomicOperation, Set<string>>();

/** Sets the marker once per operation, however many new targets it writes. */
function markIndexed(op: Deno.AtomicOperation, actionId: string) {
  const marked = markedIn.get(op) ?? new Set<string>();
  markedIn.set(op, marked);
  if (marked.has(actionId)) return;
  marked.add(actionId);
  op.set(keys.targetOutcomesIndexed(actionId), true);
}

/**
 * Writes `next` in place of `prev` (null: a new target) or removes `prev`
 * (`next` null: a write that never became visible is discarded). A discard
 * lets go of the instance only when `ownsLock` (the caller checked the lock
 * still names this target).
 */
export function putTarget(
  op: Deno.AtomicOperation,
  prev: Target | null,
  next: Target | null,
  opts: { ownsLock?: boolean } = {},
): Deno.AtomicOperation {
  const t = (next ?? prev)!;
  const lock = keys.instancePendingTarget(t.instanceId);
  const wasRunning = prev?.status === "running";
  const isRunning = next?.status === "running";
  const sameClaim = wasRunning && isRunning &&
    prev!.claimedAt === next!.claimedAt;
  if (wasRunning && !sameClaim) op.delete(runningKey(prev!));
  const movesOutcome = !prev || !next || outcomeOf(prev) !== outcomeOf(next);
  if (prev && movesOutcome) op.delete(outcomeKey(prev));
  if (!next) {
    op.delete(keys.target(t.id))
      .delete(keys.targetByAction(t.actionId, t.id))
      .delete(keys.targetByInstance(t.instanceId, t.id));
    if (opts.ownsLock ?? true) op.delete(lock);
    return op;
  }
  op.set(keys.target(next.id), next);
  if (movesOutcome) op.set(outcomeKey(next), null);
  if (!prev) {
    op.set(keys.targetByAction(next.actionId, next.id), null)
      .set(keys.targetByInstance(next.instanceId, next.id), null);
    markIndexed(op, next.actionId);
    if (!hasEnded(next)) {
      op.set(lock, { actionId: next.actionId, targetId: next.id });
    }
  }
  if (isRunning && !sameClaim) op.set(runningKey(next), null);
  if (hasEnded(next) && prev && !hasEnded(prev)) {
    op.delete(lock);
    const stage = { actionId: next.actionId, index: next.stageIndex };
    addToCounter(op, next.actionId, next.status as "applied");
    addToStageCounter(op, stage, next.status as "applied");
    if (next.skipReason === "cancelled") {
      addToCounter(op, next.actionId, "cancelled");
      addToStageCounter(op, stage, "cancelled");
    }
  }
  return op;
}

/**
 * Gives a target written before the outcome index its outcome key; the
 * caller checks the target's entry in the same operation, so the key names
 * the outcome the target still has.
 */
export function indexOutcome(
  op: Deno.AtomicOperation,
  t: Target,
): Deno.AtomicOperation {
  return op.set(outcomeKey(t), null);
}

/**
 * Removes a `targets_running` key that names no running claim of its target
 * (left by an older version of the record); recovery calls it.
 */
export function dropStaleRunningKey(
  op: Deno.AtomicOperation,
  key: Deno.KvKey,
): Deno.AtomicOperation {
  return op.delete(key);
}

const iso = (at: number) => new Date(at).toISOString();

/** pending → running: claimed by an apply at `at`; a claim counts as an attempt. */
export function asRunning(t: Target, at: number): Target {
  return {
    ...t,
    status: "running",
    claimedAt: iso(at),
    attempts: (t.attempts ?? 0) + 1,
    updatedAt: iso(at),
  };
}

/** running → pending, for another try at the stage's next run. */
export function asPendingAgain(t: Target, error: string, at: number): Target {
  return {
    ...t,
    status: "pending",
    claimedAt: null,
    error,
    updatedAt: iso(at),
  };
}

/** How a target ends: applied, skipped (with why) or failed (with the error). */
export type TargetEnd =
  | { status: "applied" }
  | { status: "skipped"; reason: SkipReason }
  | { status: "failed"; error: string };

/** The same target, ended. */
export function asEnded(t: Target, end: TargetEnd, at: number): Target {
  return {
    ...t,
    status: end.status,
    skipReason: end.status === "skipped" ? end.reason : null,
    error: end.status === "failed" ? end.error : null,
    finishedAt: iso(at),
    updatedAt: iso(at),
  };
}
