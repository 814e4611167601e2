/**
 * Cancelling a whole action or one target. Each pending target becomes
 * skipped (`cancelled`) in one atomic op with its notification rows (DESIGN
 * rule 4), checked by versionstamp so a racing apply claim or sweep claim
 * either wins before or loses after, never both. A target already running is
 * left to the apply path: it is in flight.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import {
  allTargetIdsOfAction,
  getActionCounters,
  getStageEntries,
  getTargetEntries,
} from "../kv/actions.ts";
import {
  addCancelMutations,
  MAX_CANCEL_CHECKS_PER_TARGET,
  MAX_CANCEL_MUTATIONS_PER_TARGET,
  readRowsOfTargets,
  readTargetRows,
} from "../notices/rows.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { refuseWhilePreparing } from "../preparing_refusal.ts";
import { packCommits } from "../kv/commits.ts";
import {
  MUTATIONS_PER_TARGET_CHANGE,
  putTarget,
} from "../apply/target_status.ts";
import { putStage } from "../apply/stage_status.ts";
import { isStageLive } from "../types.ts";
import type {
  ActionCounters,
  Notification,
  ScheduledAction,
  Target,
} from "../types.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";

export interface CancelDeps {
  kv: Deno.Kv;
  now: () => number;
}

/** What a cancel answers; a repeat answers the same. */
export interface CancelActionResult {
  action: ScheduledAction;
  counters: ActionCounters;
}

export interface CancelTargetResult {
  action: ScheduledAction;
  target: Target;
}

/**
 * What this very call did, beside the answer. Among racing cancels exactly
 * one changed the action (or the instance): only that one is recorded as
 * the cancel.
 */
export interface CancelActionOutcome {
  result: CancelActionResult;
  /** The status this call moved the action from; null: it was cancelled already. */
  cancelledFrom: ScheduledAction["status"] | null;
}

export interface CancelTargetOutcome {
  result: CancelTargetResult;
  /** Whether this call cancelled the target (false: it was cancelled already). */
  changed: boolean;
  /** Whether this call, cancelling the last instance, called the action off. */
  actionCancelled: boolean;
}

const FINISHED = new Set(["completed", "failed"]);

function cancelledTarget(t: Target, now: number): Target {
  const at = new Date(now).toISOString();
  return {
    ...t,
    status: "skipped",
    skipReason: "cancelled",
    finishedAt: at,
    updatedAt: at,
  };
}

/** Adds one pending target's cancellation to `op`; the caller checks nothing else for it. */
function addTargetCancel(
  op: Deno.AtomicOperation,
  entry: Deno.KvEntry<Target>,
  rows: Deno.KvEntry<Notification>[],
  now: number,
): Deno.AtomicOperation {
  putTarget(op.check(entry), entry.value, cancelledTarget(entry.value, now));
  return addCancelMutations(op, rows, now);
}

async function getActionEntry(kv: Deno.Kv, actionId: string) {
  const entry = await kv.get<ScheduledAction>(keys.action(actionId));
  if (!entry.value) {
    throw new NotFoundError(`scheduled action ${actionId} not found`);
  }
  return entry as Deno.KvEntry<ScheduledAction>;
}

/**
 * Cancels an action: scheduled or running → cancelled, its stages cancelled,
 * every pending target skipped. Calling it again answers the same and changes
 * nothing (or finishes a cancel a crash interrupted). A finished action is a
 * 409.
 */
export async function cancelAction(
  deps: CancelDeps,
  actionId: string,
): Promise<CancelActionResult> {
  return (await cancelActionTelling(deps, actionId)).result;
}

/** `cancelAction`, telling whether this call is the one that cancelled it. */
export async function cancelActionTelling(
  deps: CancelDeps,
  actionId: string,
  /** An abort: the waves that had started, kept on the cancelled action. */
  opts: { abortedAfterWave?: number } = {},
): Promise<CancelActionOutcome> {
  const { kv } = deps;
  const cancel = await conditionalWrite<{
    action: ScheduledAction;
    cancelledFrom: ScheduledAction["status"] | null;
  }>(`scheduled action ${actionId}`, async () => {
    const entry = await getActionEntry(kv, actionId);
    const action = entry.value;
    if (FINISHED.has(action.status)) {
      throw new ConflictError(
        `scheduled action ${actionId} already ${action.status}; a finished action cannot be cancelled`,
      );
    }
    if (action.status === "cancelled") {
      return { done: { action, cancelledFrom: null } };
    }
    const now = deps.now();
    const at = new Date(now).toISOString();
    const stages = await getStageEntries(kv, actionId);
    const next: ScheduledAction = {
      ...action,
      status: "cancelled",
      cancelledAt: at,
      finishedAt: at,
      updatedAt: at,
      ...(opts.abortedAfterWave !== undefined
        ? { abortedAfterWave: opts.abortedAfterWave }
        : {}),
    };
    const cancelled = actionEvent("action.cancelled", next, now, {
      scheduledAt: stages[0]?.value.scheduledAt ?? null,
    });
    return {
      write: () => {
        const op = addWebhookEvent(
          kv.atomic().check(entry).set(keys.action(actionId), next)
            .set(keys.actionCancelling(actionId), now),
          cancelled,
        );
        for (const s of stages) {
          op.check(s);
          if (isStageLive(s.value)) {
            putStage(op, s.value, {
              ...s.value,
              status: "cancelled",
              finishedAt: at,
            });
          }
        }
        return op;
      },
      result: { action: next, cancelledFrom: action.status },
    };
  });
  await finishCancel(deps, actionId);
  return {
    result: {
      action: cancel.action,
      counters: await getActionCounters(kv, actionId),
    },
    cancelledFrom: cancel.cancelledFrom,
  };
}

/**
 * Skips every target of a cancelled action still pending, many per commit,
 * then drops the action's "cancelling" marker. Resumable: the apply tick
 * calls it for any marker a crash left behind.
 */
export async function finishCancel(
  deps: CancelDeps,
  actionId: string,
): Promise<number> {
  const { kv } = deps;
  const marker = await kv.get(keys.actionCancelling(actionId));
  if (marker.value === null) return 0;
  const ids = await allTargetIdsOfAction(kv, actionId);
  let skipped = 0;
  // A target being applied may come back to pending (a transient failure, or
  // recovery after a crash); the marker stays until none is running, so the
  // next tick skips it instead of leaving it pending, and locked, forever.
  let running = false;
  for (let i = 0; i < ids.length; i += 500) {
    const entries = await getTargetEntries(kv, ids.slice(i, i + 500));
    if (entries.some((e) => e.value.status === "running")) running = true;
    const pending = entries.filter((e) => e.value.status === "pending");
    const rowsOf = await readRowsOfTargets(kv, pending.map((e) => e.value.id));
    const withRows = pending.map((e) =>
      [e, rowsOf.get(e.value.id)!] as [
        Deno.KvEntry<Target>,
        Deno.KvEntry<Notification>[],
      ]
    );
    // Per target: its check and writes, plus what the rows' cancel may add
    // (each row checks itself and, when a follow-up is queued, its index).
    const groups = packCommits(withRows, ([, rows]) => ({
      checks: 1 + Math.min(2 * rows.length, MAX_CANCEL_CHECKS_PER_TARGET),
      mutations: MUTATIONS_PER_TARGET_CHANGE + MAX_CANCEL_MUTATIONS_PER_TARGET,
    }));
    for (const group of groups) {
      skipped += await commitCancels(deps, group);
    }
  }
  if (running) return skipped;
  await kv.atomic().check(marker).delete(keys.actionCancelling(actionId))
    .commit();
  return skipped;
}

/** Commits a group; when a row or target moved meanwhile, falls back to one target at a time. */
async function commitCancels(
  deps: CancelDeps,
  group: [Deno.KvEntry<Target>, Deno.KvEntry<Notification>[]][],
): Promise<number> {
  const now = deps.now();
  const res = await commitRetrying(() => {
    const op = deps.kv.atomic();
    for (const [e, rows] of group) addTargetCancel(op, e, rows, now);
    return op;
  });
  if (res.ok) return group.length;
  let n = 0;
  for (const [e] of group) {
    if (await cancelPendingTarget(deps, e.value.id)) n++;
  }
  return n;
}

/** Cancels one target if it is still pending; false when it is not (anymore). */
async function cancelPendingTarget(
  deps: CancelDeps,
  targetId: string,
): Promise<boolean> {
  const { kv } = deps;
  return await conditionalWrite<boolean>(`target ${targetId}`, async () => {
    const entry = await kv.get<Target>(keys.target(targetId));
    if (entry.value?.status !== "pending") return { done: false };
    const rows = await readTargetRows(kv, targetId);
    return {
      write: () =>
        addTargetCancel(
          kv.atomic(),
          entry as Deno.KvEntry<Target>,
          rows,
          deps.now(),
        ),
      result: true,
    };
  });
}

/**
 * Cancels one target: pending → skipped (`cancelled`). The rest of the action
 * goes ahead. Idempotent; a target that is running or finished otherwise is a
 * 409.
 */
export async function cancelTarget(
  deps: CancelDeps,
  actionId: string,
  targetId: string,
): Promise<CancelTargetResult> {
  return (await cancelTargetTelling(deps, actionId, targetId)).result;
}

/** `cancelTarget`, telling whether this call is the one that cancelled it. */
export async function cancelTargetTelling(
  deps: CancelDeps,
  actionId: string,
  targetId: string,
): Promise<CancelTargetOutcome> {
  const { kv } = deps;
  const action = (await getActionEntry(kv, actionId)).value;
  const current = (await kv.get<Target>(keys.target(targetId))).value;
  if (!current || current.actionId !== actionId) {
    throw new NotFoundError(
      `target ${targetId} of action ${actionId} not found`,
    );
  }
  refuseWhilePreparing(
    action,
    "one instance cannot be cancelled on its own yet",
  );
  const changed = current.status === "pending" &&
    await cancelPendingTarget(deps, targetId);
  const target = (await kv.get<Target>(keys.target(targetId))).value!;
  if (target.status === "skipped" && target.skipReason === "cancelled") {
    const after = (await getActionEntry(kv, actionId)).value;
    // Every instance cancelled one by one before the time came: the action
    // itself is called off, rather than later "completing" with nothing done.
    if (after.status === "scheduled") {
      const counters = await getActionCounters(kv, actionId);
      if (counters.skipped >= counters.total) {
        const all = await cancelActionTelling(deps, actionId);
        return {
          result: { action: all.result.action, target },
          changed,
          actionCancelled: all.cancelledFrom !== null,
        };
      }
    }
    return {
      result: { action: after, target },
      changed,
      actionCancelled: false,
    };
  }
  const state = target.status === "skipped"
    ? `skipped (${target.skipReason})`
    : target.status;
  throw new ConflictError(
    target.status === "running"
      ? `target ${targetId} is being applied right now and can no longer be cancelled`
      : `target ${targetId} already finished: ${state}; action ${action.id} is ${action.status}`,
  );
}
