/**
 * Keeping KV from growing with history. An action that ended (completed,
 * failed or cancelled) more than `ACTION_RETENTION_DAYS` ago is removed with
 * everything under it: its stages, counters and cancellations, its targets
 * and their indexes, its notification rows and theirs. A fleet restarted
 * weekly would otherwise add some 3 KB per instance a week for good. The
 * audit keeps who did what for its own 400 days; the outbox, dispatch groups
 * and side-effect answers expire on their own.
 *
 * Nothing is removed while any of it could still move: every target must
 * have ended, every row be sent or failed, and no cancel, move or schedule
 * write be unfinished. Targets and rows go first, in commits that check what
 * they delete; the action record goes last, so a purge cut short is found
 * and finished by the next run.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { packCommits } from "../kv/commits.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { listTargetIdsOfAction } from "../kv/actions.ts";
import {
  isRowEnded,
  readIndexedRows,
  removeEndedRow,
  rowsIn,
} from "../notices/rows.ts";
import {
  clearNoticeCounters,
  COUNTER_MUTATIONS_PER_REMOVED_ROW,
} from "../notices/counters.ts";
import {
  hasEnded,
  MUTATIONS_PER_REMOVED_TARGET,
  putTarget,
} from "../apply/target_status.ts";
import { putStage } from "../apply/stage_status.ts";
import type { ScheduledAction, Stage, Target } from "../types.ts";

export const DAY_MS = 24 * 3_600_000;
/** Targets read (and removed) at a time. */
const PAGE = 100;

export interface PurgeCounts {
  /** Actions removed whole. */
  actions: number;
  targets: number;
  rows: number;
  /** Actions old enough that still had something open, left for a later run. */
  kept: number;
}

/** When the action ended, or null while it is still open. */
export function endedAt(a: ScheduledAction): number | null {
  if (a.status === "scheduled" || a.status === "running") return null;
  const times = [a.finishedAt, a.cancelledAt, a.updatedAt]
    .filter((t): t is string => t !== null)
    .map(Date.parse);
  return Math.max(...times);
}

/**
 * Removes the actions that ended before `now − retentionDays` (oldest first,
 * at most `maxActions` a run). Action ids are UUIDv7, so the walk stops at
 * the first action created after the cutoff: no later one can have ended
 * before it.
 */
export async function purgeEndedActions(
  kv: Deno.Kv,
  o: { now: number; retentionDays: number; maxActions?: number },
): Promise<PurgeCounts> {
  const counts: PurgeCounts = { actions: 0, targets: 0, rows: 0, kept: 0 };
  if (o.retentionDays <= 0) return counts;
  const cutoff = o.now - o.retentionDays * DAY_MS;
  const max = o.maxActions ?? 1_000;
  for await (
    const e of kv.list<ScheduledAction>({ prefix: keys.actions() })
  ) {
    if (Date.parse(e.value.createdAt) >= cutoff) break;
    const ended = endedAt(e.value);
    if (ended === null || ended >= cutoff) continue;
    if (counts.actions + counts.kept >= max) break;
    if (await purgeAction(kv, e as Deno.KvEntry<ScheduledAction>, counts)) {
      counts.actions++;
    } else counts.kept++;
  }
  return counts;
}

/** Removes one ended action whole; false (and what is left kept) when something under it is still open. */
async function purgeAction(
  kv: Deno.Kv,
  action: Deno.KvEntry<ScheduledAction>,
  counts: PurgeCounts,
): Promise<boolean> {
  const id = action.value.id;
  const markers = await kv.getMany([
    keys.actionWrite(id),
    keys.actionCancelling(id),
    keys.actionRescheduling(id),
  ]);
  if (markers.some((m) => m.versionstamp !== null)) return false;
  // First every page is read to see that nothing is open, then the pages go:
  // an action is removed whole or not touched.
  let cursor: string | undefined;
  for (;;) {
    const page = await listTargetIdsOfAction(kv, id, { limit: PAGE, cursor });
    if ((await removals(kv, id, page.ids)) === null) return false;
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  for (;;) {
    // Each page is removed before the next is read: the listing starts over.
    const { ids } = await listTargetIdsOfAction(kv, id, { limit: PAGE });
    if (!ids.length) break;
    const parts = await removals(kv, id, ids);
    if (parts === null) return false;
    const commits = packCommits(
      parts,
      (p) => ({ checks: p.checks.length, mutations: p.mutations }),
    );
    for (const chunk of commits) {
      const res = await commitRetrying(() => {
        const op = kv.atomic();
        for (const p of chunk) {
          for (const c of p.checks) op.check(c);
          p.apply(op);
        }
        return op;
      });
      // Something moved meanwhile: leave the action for a later run.
      if (!res.ok) return false;
      counts.targets += chunk.length;
      counts.rows += chunk.reduce((n, p) => n + p.rows, 0);
    }
  }
  // Every row is gone, so the notice counts read zero: clearing them first
  // leaves a purge cut short here as true as before.
  await clearNoticeCounters(kv, id);
  const prefixes = [
    keys.stages(id),
    keys.actionCounters(id),
    keys.stageCounters(id),
    keys.cancellations(id),
    // Outcome keys whose target was already gone.
    keys.targetsByOutcome(id),
  ];
  const [stages, counters, stageCounters, cancellations, outcomes] =
    await Promise.all(prefixes.map(async (prefix) => {
      const out: Deno.KvEntry<unknown>[] = [];
      for await (const e of kv.list({ prefix })) out.push(e);
      return out;
    }));
  const res = await commitRetrying(() => {
    const op = kv.atomic().check(action);
    for (const s of stages) putStage(op.check(s), s.value as Stage, null);
    for (
      const e of [...counters, ...stageCounters, ...cancellations, ...outcomes]
    ) {
      op.delete(e.key);
    }
    return op.delete(keys.targetOutcomesIndexed(id)).delete(action.key);
  });
  return res.ok;
}

/** What removing these targets takes, each with its rows; null when one of them is still open. */
async function removals(
  kv: Deno.Kv,
  actionId: string,
  ids: string[],
): Promise<TargetRemoval[] | null> {
  const [targets, indexed] = await Promise.all([
    getManyChunked<Target>(kv, ids.map((t) => keys.target(t))),
    readIndexedRows(kv, ids),
  ]);
  const parts: TargetRemoval[] = [];
  for (const [i, t] of targets.entries()) {
    const entries = indexed.get(ids[i])!;
    const rows = rowsIn(entries);
    // Index keys naming a row that is gone: removed with the rest.
    const debris = entries.filter((e) => !e.row.value);
    if (t.value && !hasEnded(t.value)) return null;
    if (rows.some((r) => !isRowEnded(r.value))) return null;
    parts.push({
      checks: [t, ...rows],
      rows: rows.length,
      // The target's keys, per row its two and its counts, the debris.
      mutations: MUTATIONS_PER_REMOVED_TARGET +
        (2 + COUNTER_MUTATIONS_PER_REMOVED_ROW) * rows.length + debris.length,
      apply: (op) => {
        for (const r of rows) removeEndedRow(op, r.value);
        for (const k of debris) op.delete(k.key);
        if (t.value) putTarget(op, t.value, null, { ownsLock: false });
        // An index key whose target is already gone.
        else op.delete(keys.targetByAction(actionId, ids[i]));
      },
    });
  }
  return parts;
}

interface TargetRemoval {
  checks: Deno.AtomicCheck[];
  rows: number;
  mutations: number;
  apply: (op: Deno.AtomicOperation) => void;
}
