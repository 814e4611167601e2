/**
 * The chunked, all-or-nothing write of a new action, and the clean-up of a
 * write that failed or was abandoned. The rule it keeps is written at the top
 * of schedule.ts.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import {
  type ActionWriteMarker,
  addToCounter,
  addToStageCounter,
  allTargetIdsOfAction,
  getTargetEntries,
  isWriteAbandoned,
  type PendingTargetLock,
} from "../kv/actions.ts";
import {
  addNewRow,
  CHECKS_PER_NEW_ROW,
  MUTATIONS_PER_NEW_ROW,
  readRowsOfTargets,
  removeUnwrittenRow,
} from "../notices/rows.ts";
import { ConflictError } from "../errors.ts";
import { log } from "../operations/log.ts";
import { commitPool, forEachLimited, packCommits } from "../kv/commits.ts";
import { clearNoticeCounters } from "../notices/counters.ts";
import { MUTATIONS_PER_NEW_TARGET, putTarget } from "../apply/target_status.ts";
import { putStage } from "../apply/stage_status.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";
import type { Notification, ScheduledAction, Stage, Target } from "../types.ts";

export interface ActionPlan {
  action: ScheduledAction;
  /** One per wave (one for an action without waves), index order. */
  stages: Stage[];
  /** Sorted by instance id: every writer takes locks in the same order, so of two overlapping writes one wins whole. */
  targets: Target[];
  rows: Notification[];
}

/** Commits in flight at once for the parts no other writer contends for. */
const WRITE_WIDTH = 4;
/** Per target in a lock commit: the check of its lock, and what putTarget writes. */
const LOCK_COST = { checks: 1, mutations: MUTATIONS_PER_NEW_TARGET };
const ROW_COST = {
  checks: CHECKS_PER_NEW_ROW,
  mutations: MUTATIONS_PER_NEW_ROW,
};

/** Instances whose lock another action holds; schedule.ts turns this into a 409. */
export class InstanceLockedError extends Error {
  constructor(readonly held: Map<string, PendingTargetLock | null>) {
    super(
      `instances already have a pending action: ${[...held.keys()].join(", ")}`,
    );
  }
}

/**
 * Writes the plan. Marker first, then the locks with the targets (in instance
 * order, one commit at a time), then the notification rows (a few commits in
 * parallel), and last the action record with its stage, due-index entry and
 * total: the commit that makes it visible, which fails if the marker was
 * taken away as abandoned. On any failure the partial write is removed.
 */
export async function writeAction(
  kv: Deno.Kv,
  plan: ActionPlan,
  now: number,
): Promise<void> {
  const { action, stages } = plan;
  const markerKey = keys.actionWrite(action.id);
  const marker: ActionWriteMarker = { actionId: action.id, startedAt: now };
  const started = await commitRetrying(() =>
    kv.atomic().check({ key: markerKey, versionstamp: null }).set(
      markerKey,
      marker,
    )
  );
  if (!started.ok) throw new Error(`action id ${action.id} is already in use`);
  const scheduled = actionEvent("action.scheduled", action, now, {
    scheduledAt: stages[0].scheduledAt,
    counts: { total: plan.targets.length, applied: 0, skipped: 0, failed: 0 },
  });
  try {
    await writeTargets(kv, plan, now);
    const perStage = new Map<number, number>();
    for (const t of plan.targets) {
      perStage.set(t.stageIndex, (perStage.get(t.stageIndex) ?? 0) + 1);
    }
    const visible = await commitRetrying(() => {
      const op = kv.atomic()
        .check({ key: markerKey, versionstamp: started.versionstamp })
        .check({ key: keys.action(action.id), versionstamp: null })
        .set(keys.action(action.id), action)
        .delete(markerKey);
      for (const s of stages) {
        putStage(op, null, s);
        addToStageCounter(op, s, "total", perStage.get(s.index) ?? 0);
      }
      return addToCounter(
        addWebhookEvent(op, scheduled),
        action.id,
        "total",
        plan.targets.length,
      );
    });
    if (!visible.ok) {
      throw new ConflictError(
        "scheduling took too long and was abandoned; nothing was scheduled, try again",
      );
    }
  } catch (err) {
    await discardWrite(kv, plan.action.id, plan.targets, plan.rows).catch(
      (cleanupErr) =>
        // The marker stays behind; the apply tick purges the write once it counts as abandoned.
        log.error("cleaning up a failed schedule write failed", {
          actionId: action.id,
          error: String(cleanupErr),
        }),
    );
    throw err;
  }
}

/**
 * Locks and targets go one commit at a time in instance order; the rows of a
 * chunk follow it (a few commits in flight) while the next chunk locks, so an
 * abandoned write's rows are always reachable from its targets.
 */
async function writeTargets(kv: Deno.Kv, plan: ActionPlan, now: number) {
  const { action } = plan;
  const rowsOf = new Map<string, Notification[]>();
  for (const row of plan.rows) {
    const list = rowsOf.get(row.targetId);
    if (list) list.push(row);
    else rowsOf.set(row.targetId, [row]);
  }
  const pool = commitPool(WRITE_WIDTH);
  try {
    for (const chunk of packCommits(plan.targets, () => LOCK_COST)) {
      await lockChunk(kv, plan, chunk, now);
      const rows = chunk.flatMap((t) => rowsOf.get(t.id) ?? []);
      for (const part of packCommits(rows, () => ROW_COST)) {
        await pool.add(async () => {
          const res = await commitRetrying(() => {
            const op = kv.atomic();
            for (const row of part) addNewRow(op, row);
            return op;
          });
          if (!res.ok) {
            throw new Error(
              `a notification row of action ${action.id} already exists`,
            );
          }
        });
      }
    }
  } finally {
    await pool.drain();
  }
}

async function lockChunk(
  kv: Deno.Kv,
  plan: ActionPlan,
  chunk: Target[],
  now: number,
) {
  const { action } = plan;
  for (let attempt = 0;; attempt++) {
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const t of chunk) {
        op.check({
          key: keys.instancePendingTarget(t.instanceId),
          versionstamp: null,
        });
        putTarget(op, null, t);
      }
      return op;
    });
    if (res.ok) return;
    const held = await foreignLocks(
      kv,
      chunk.map((t) => t.instanceId),
      action.id,
    );
    const stale = await abandonedHolders(kv, held, now);
    // An empty `held` means the holder let go since the commit: just try again.
    if (attempt >= 3 || (held.size > 0 && stale.size === 0)) {
      throw new InstanceLockedError(
        await foreignLocks(
          kv,
          plan.targets.map((t) => t.instanceId),
          action.id,
        ),
      );
    }
    for (const actionId of stale) await purgeAbandonedWrite(kv, actionId, now);
  }
}

/** Locks on these instances held by anyone but `actionId`. */
export async function foreignLocks(
  kv: Deno.Kv,
  instanceIds: string[],
  actionId: string,
): Promise<Map<string, PendingTargetLock | null>> {
  const held = new Map<string, PendingTargetLock | null>();
  for (let i = 0; i < instanceIds.length; i += 10) {
    const ids = instanceIds.slice(i, i + 10);
    const got = await kv.getMany<PendingTargetLock[]>(
      ids.map((id) => keys.instancePendingTarget(id)),
    );
    got.forEach((e, j) => {
      if (e.value && e.value.actionId !== actionId) held.set(ids[j], e.value);
    });
  }
  return held;
}

/** The actions behind these locks that never became visible and whose write is abandoned. */
export async function abandonedHolders(
  kv: Deno.Kv,
  held: Map<string, PendingTargetLock | null>,
  now: number,
): Promise<Set<string>> {
  const out = new Set<string>();
  const actionIds = new Set(
    [...held.values()].flatMap((l) => l ? [l.actionId] : []),
  );
  for (const id of actionIds) {
    const [action, marker] = await kv.getMany<
      [ScheduledAction, ActionWriteMarker]
    >([
      keys.action(id),
      keys.actionWrite(id),
    ]);
    if (!action.value && isWriteAbandoned(marker.value, now)) out.add(id);
  }
  return out;
}

/**
 * Removes what a write that never became visible left: rows, targets and
 * their indexes, the locks still pointing at its targets, and the marker.
 */
export async function discardWrite(
  kv: Deno.Kv,
  actionId: string,
  targets: Target[],
  rows: Notification[],
): Promise<void> {
  await forEachLimited(
    packCommits(rows, () => ({ checks: 0, mutations: 3 })),
    WRITE_WIDTH,
    async (chunk) => {
      await commitRetrying(() => {
        const op = kv.atomic();
        for (const r of chunk) removeUnwrittenRow(op, r);
        return op;
      });
    },
  );
  await forEachLimited(
    packCommits(targets, () => ({ checks: 1, mutations: 4 })),
    WRITE_WIDTH,
    async (chunk) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const locks: Deno.KvEntryMaybe<PendingTargetLock>[] = [];
        for (let i = 0; i < chunk.length; i += 10) {
          locks.push(
            ...await kv.getMany<PendingTargetLock[]>(
              chunk.slice(i, i + 10).map((t) =>
                keys.instancePendingTarget(t.instanceId)
              ),
            ),
          );
        }
        const res = await commitRetrying(() => {
          const op = kv.atomic();
          chunk.forEach((t, i) => {
            // Only the lock this write took: another action may hold the instance now.
            const ownsLock = locks[i].value?.targetId === t.id;
            if (ownsLock) op.check(locks[i]);
            putTarget(op, t, null, { ownsLock });
          });
          return op;
        });
        if (res.ok) break;
      }
    },
  );
  await clearNoticeCounters(kv, actionId);
  await kv.delete(keys.actionWrite(actionId));
}

/**
 * Removes an abandoned write found in KV (a crash left it, or its own clean-up
 * failed). First takes the marker away in a commit that also checks the
 * action record is still missing: from then on that write's final commit
 * cannot succeed, so removing the rest is safe.
 */
export async function purgeAbandonedWrite(
  kv: Deno.Kv,
  actionId: string,
  now: number,
): Promise<boolean> {
  const marker = await kv.get<ActionWriteMarker>(keys.actionWrite(actionId));
  if (!isWriteAbandoned(marker.value, now)) return false;
  const taken = await commitRetrying(() =>
    kv.atomic()
      .check({ key: keys.action(actionId), versionstamp: null })
      .check(marker)
      .delete(keys.actionWrite(actionId))
  );
  if (!taken.ok) return false;
  const targets =
    (await getTargetEntries(kv, await allTargetIdsOfAction(kv, actionId)))
      .map((e) => e.value);
  const rows: Notification[] = [];
  for (let i = 0; i < targets.length; i += 500) {
    const part = targets.slice(i, i + 500).map((t) => t.id);
    for (const list of (await readRowsOfTargets(kv, part)).values()) {
      rows.push(...list.map((e) => e.value));
    }
  }
  await discardWrite(kv, actionId, targets, rows);
  return true;
}

/** Purges every abandoned write (the apply tick calls this); returns how many. */
export async function purgeAbandonedWrites(
  kv: Deno.Kv,
  now: number,
): Promise<number> {
  let purged = 0;
  for await (
    const e of kv.list<ActionWriteMarker>({ prefix: keys.actionWrites() })
  ) {
    if (isWriteAbandoned(e.value, now)) {
      if (await purgeAbandonedWrite(kv, e.value.actionId, now)) purged++;
    }
  }
  return purged;
}
