/**
 * Scheduled actions, their stages and targets: reads, counters, the pending
 * target lock of an instance, and the visibility rule of a schedule write.
 *
 * Visibility: an action exists for every reader exactly when its record
 * `["actions", id]` exists. The schedule write puts that record in its last
 * commit, after every target, lock and notification row (see
 * lib/scheduler/schedule.ts), so anything found whose action record is missing
 * belongs to a write in progress or to an abandoned one.
 */
import { keys } from "./keys.ts";
import { getManyChunked } from "./batched_reads.ts";
import type {
  ActionCounters,
  ProgressCounts,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";

/** A write older than this whose action never appeared is abandoned (a 10,000-target write takes seconds). */
export const ABANDONED_WRITE_MS = 10 * 60_000;

/** The marker a schedule write holds from its first commit to its last. */
export interface ActionWriteMarker {
  actionId: string;
  /** Epoch ms. */
  startedAt: number;
}

/** Value of `keys.instancePendingTarget`: the one pending (or running) target of an instance. */
export interface PendingTargetLock {
  actionId: string;
  targetId: string;
}

export type ActionWriteState = "visible" | "in_progress" | "abandoned";

/** The one rule readers, the apply path and the sweeps share: an action is visible once its record exists. */
export function isActionVisible(
  entry: Deno.KvEntryMaybe<ScheduledAction>,
): entry is Deno.KvEntry<ScheduledAction> {
  return entry.value !== null;
}

export function isWriteAbandoned(
  marker: ActionWriteMarker | null,
  now: number,
): boolean {
  return marker === null || now - marker.startedAt >= ABANDONED_WRITE_MS;
}

/**
 * Tells a visible action from a write still going on and from one that was
 * abandoned (crashed, or failed before it could clean up). Rows of an
 * `in_progress` write must be left alone; rows of an `abandoned` one are
 * garbage that `purgeAbandonedWrite` removes.
 */
export async function actionWriteState(
  kv: Deno.Kv,
  actionId: string,
  now: number,
): Promise<ActionWriteState> {
  const [action, marker] = await kv.getMany<
    [ScheduledAction, ActionWriteMarker]
  >([
    keys.action(actionId),
    keys.actionWrite(actionId),
  ]);
  if (action.value) return "visible";
  return isWriteAbandoned(marker.value, now) ? "abandoned" : "in_progress";
}

export async function getAction(
  kv: Deno.Kv,
  id: string,
): Promise<ScheduledAction | null> {
  return (await kv.get<ScheduledAction>(keys.action(id))).value;
}

export async function getTarget(
  kv: Deno.Kv,
  id: string,
): Promise<Target | null> {
  return (await kv.get<Target>(keys.target(id))).value;
}

/** Reads many targets; missing ones are absent. */
export async function getTargetEntries(
  kv: Deno.Kv,
  ids: string[],
): Promise<Deno.KvEntry<Target>[]> {
  const got = await getManyChunked<Target>(
    kv,
    ids.map((id) => keys.target(id)),
  );
  return got.filter((e): e is Deno.KvEntry<Target> => e.value !== null);
}

export async function getStageEntries(
  kv: Deno.Kv,
  actionId: string,
): Promise<Deno.KvEntry<Stage>[]> {
  const out: Deno.KvEntry<Stage>[] = [];
  for await (const e of kv.list<Stage>({ prefix: keys.stages(actionId) })) {
    out.push(e);
  }
  return out;
}

const COUNTER_NAMES = ["total", "applied", "skipped", "failed"] as const;

export async function getActionCounters(
  kv: Deno.Kv,
  actionId: string,
): Promise<ActionCounters> {
  const got = await kv.getMany<Deno.KvU64[]>(
    COUNTER_NAMES.map((n) => keys.actionCounter(actionId, n)),
  );
  const [total, applied, skipped, failed] = got.map((e) =>
    e.value ? Number(e.value.value) : 0
  );
  return { total, applied, skipped, failed };
}

/**
 * What an action's progress shows: cancelled targets on their own, not among
 * the skipped (the stored `skipped` counter holds both).
 */
export async function getProgressCounts(
  kv: Deno.Kv,
  actionId: string,
): Promise<ProgressCounts> {
  const [c, cancelled] = await Promise.all([
    getActionCounters(kv, actionId),
    kv.get<Deno.KvU64>(keys.actionCounter(actionId, "cancelled")),
  ]);
  const n = cancelled.value ? Number(cancelled.value.value) : 0;
  return { ...c, skipped: Math.max(0, c.skipped - n), cancelled: n };
}

/** Adds `n` to a counter in `op`: a KV `sum`, so no parent record's versionstamp moves. */
export function addToCounter(
  op: Deno.AtomicOperation,
  actionId: string,
  name: keyof ActionCounters | "cancelled",
  n = 1,
): Deno.AtomicOperation {
  return op.sum(keys.actionCounter(actionId, name), BigInt(n));
}

/** Adds `n` to one of a stage's counters in `op` (KV `sum`, like the action's). */
export function addToStageCounter(
  op: Deno.AtomicOperation,
  stage: Pick<Stage, "actionId" | "index">,
  name: keyof ActionCounters | "cancelled" | "moved_out",
  n = 1,
): Deno.AtomicOperation {
  return op.sum(
    keys.stageCounter(stage.actionId, stage.index, name),
    BigInt(n),
  );
}

/** Every stage's counters of an action, by stage index (cancelled apart from skipped). */
export async function getStageCounts(
  kv: Deno.Kv,
  actionId: string,
): Promise<Map<number, ProgressCounts>> {
  const out = new Map<number, ProgressCounts>();
  const movedOut = new Map<number, number>();
  for await (
    const e of kv.list<Deno.KvU64>({ prefix: keys.stageCounters(actionId) })
  ) {
    const index = e.key[2] as number;
    const name = e.key[3] as keyof ProgressCounts | "moved_out";
    const c = out.get(index) ??
      { total: 0, applied: 0, skipped: 0, failed: 0, cancelled: 0 };
    if (name === "moved_out") movedOut.set(index, Number(e.value.value));
    else c[name] = Number(e.value.value);
    out.set(index, c);
  }
  for (const [index, c] of out) {
    c.skipped = Math.max(0, c.skipped - c.cancelled);
    // A KV sum only adds: targets an owner postponed away are counted apart.
    c.total = Math.max(0, c.total - (movedOut.get(index) ?? 0));
  }
  return out;
}

/** One page of an action's target ids, in creation order. */
export async function listTargetIdsOfAction(
  kv: Deno.Kv,
  actionId: string,
  opts: { cursor?: string; limit?: number } = {},
): Promise<{ ids: string[]; cursor: string | null }> {
  const iter = kv.list({ prefix: keys.targetsByAction(actionId) }, {
    cursor: opts.cursor || undefined,
    limit: opts.limit,
  });
  const ids: string[] = [];
  for await (const e of iter) ids.push(e.key[2] as string);
  const more = opts.limit !== undefined && ids.length === opts.limit;
  return { ids, cursor: more && iter.cursor ? iter.cursor : null };
}

/** Every target id of an action (the apply path and cancel walk them all). */
export async function allTargetIdsOfAction(
  kv: Deno.Kv,
  actionId: string,
): Promise<string[]> {
  return (await listTargetIdsOfAction(kv, actionId)).ids;
}

export async function getPendingTargetLock(
  kv: Deno.Kv,
  instanceId: string,
): Promise<Deno.KvEntryMaybe<PendingTargetLock>> {
  return await kv.get<PendingTargetLock>(
    keys.instancePendingTarget(instanceId),
  );
}

/** Target ids of an instance, newest first (its history). */
export async function listTargetIdsOfInstance(
  kv: Deno.Kv,
  instanceId: string,
  limit = 50,
): Promise<string[]> {
  const ids: string[] = [];
  for await (
    const e of kv.list({ prefix: keys.targetsByInstance(instanceId) }, {
      reverse: true,
      limit,
    })
  ) ids.push(e.key[2] as string);
  return ids;
}
