/**
 * The repair of an action's counters: its notice counts (counters.ts) and its
 * target counts (`action_counters`) recomputed from the rows and targets
 * themselves, and rewritten where they differ.
 *
 * The counters move with the rows in the same atomic operations, so this
 * finds nothing to correct unless something wrote around them (a restored
 * backup, a hand edit, a bug). It walks every target, so it costs what the
 * old scans cost: a repair, never a read path. A row that changes while the
 * walk is under way can leave its own change out; run it again once the
 * action is quiet.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying, MAX_MUTATIONS } from "../kv/db.ts";
import { getTargetEntries, listTargetIdsOfAction } from "../kv/actions.ts";
import { NotFoundError } from "../errors.ts";
import { counterKeysOf } from "./counters.ts";
import { readRowsOfTargets } from "./rows.ts";
import type { ActionCounters, ScheduledAction } from "../types.ts";
import { refuseWhilePreparing } from "../preparing_refusal.ts";

const PAGE = 500;

type TargetCounterName = keyof ActionCounters | "cancelled";
const TARGET_COUNTERS: readonly TargetCounterName[] = [
  "total",
  "applied",
  "skipped",
  "failed",
  "cancelled",
];

/** Every counter of an action, by its key, as the rows say it should read (zeros left out). */
export async function tallyAction(
  kv: Deno.Kv,
  actionId: string,
): Promise<Map<string, { key: Deno.KvKey; value: bigint }>> {
  const out = new Map<string, { key: Deno.KvKey; value: bigint }>();
  const add = (key: Deno.KvKey, n = 1n) => {
    const id = JSON.stringify(key);
    const cur = out.get(id);
    if (cur) cur.value += n;
    else out.set(id, { key, value: n });
  };
  let cursor: string | undefined;
  for (;;) {
    const page = await listTargetIdsOfAction(kv, actionId, {
      limit: PAGE,
      cursor,
    });
    const [targets, rows] = await Promise.all([
      getTargetEntries(kv, page.ids),
      readRowsOfTargets(kv, page.ids),
    ]);
    for (const { value: t } of targets) {
      add(keys.actionCounter(actionId, "total"));
      if (t.status === "applied" || t.status === "failed") {
        add(keys.actionCounter(actionId, t.status));
      } else if (t.status === "skipped") {
        // As the apply counts them: a cancelled target is among the skipped too.
        add(keys.actionCounter(actionId, "skipped"));
        if (t.skipReason === "cancelled") {
          add(keys.actionCounter(actionId, "cancelled"));
        }
      }
    }
    for (const entries of rows.values()) {
      for (const { value: row } of entries) {
        // A row of another action named by this one's index is not this one's.
        if (row.actionId !== actionId) continue;
        for (const key of counterKeysOf(row)) add(key);
      }
    }
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  return out;
}

/** Every counter of an action as stored, by its key (zeros left out). */
export async function storedCounters(
  kv: Deno.Kv,
  actionId: string,
): Promise<Map<string, { key: Deno.KvKey; value: bigint }>> {
  const out = new Map<string, { key: Deno.KvKey; value: bigint }>();
  const prefixes = [
    keys.noticeCounts(actionId),
    keys.stageNoticeCounts(actionId),
  ];
  const lists = await Promise.all(prefixes.map(async (prefix) => {
    const found: Deno.KvEntry<unknown>[] = [];
    for await (const e of kv.list({ prefix }, { batchSize: 1000 })) {
      found.push(e);
    }
    return found;
  }));
  const targetCounters = await kv.getMany(
    TARGET_COUNTERS.map((n) => keys.actionCounter(actionId, n)),
  );
  // Shards are summed by readers, so one shard's value stands on its own.
  for (const e of [...lists.flat(), ...targetCounters]) {
    if (!(e.value instanceof Deno.KvU64) || e.value.value === 0n) continue;
    out.set(JSON.stringify(e.key), { key: e.key, value: e.value.value });
  }
  return out;
}

export interface RecountReport {
  actionId: string;
  /** Counter keys whose stored value differed from the recount, now rewritten. */
  corrected: number;
  /** What each corrected key held and now holds, for the audit. */
  changes: { key: Deno.KvKey; was: string; now: string }[];
}

/** The most corrections listed in a report (the count is always whole). */
const LISTED_CHANGES = 50;

/**
 * Recomputes an action's counters from its targets and rows and rewrites
 * those that differ (a key the recount finds no row for goes).
 */
export async function recountAction(
  kv: Deno.Kv,
  actionId: string,
): Promise<RecountReport> {
  const action = await kv.get<ScheduledAction>(keys.action(actionId));
  if (!action.value) {
    throw new NotFoundError(`scheduled action ${actionId} not found`);
  }
  // The write adds to the counters as it goes: a recount would overwrite them.
  refuseWhilePreparing(action.value, "its counters are still being written");
  const [want, have] = await Promise.all([
    tallyAction(kv, actionId),
    storedCounters(kv, actionId),
  ]);
  const fixes: { key: Deno.KvKey; was: bigint; now: bigint }[] = [];
  for (const [id, w] of want) {
    const was = have.get(id)?.value ?? 0n;
    if (was !== w.value) fixes.push({ key: w.key, was, now: w.value });
  }
  for (const [id, h] of have) {
    if (!want.has(id)) fixes.push({ key: h.key, was: h.value, now: 0n });
  }
  for (let i = 0; i < fixes.length; i += MAX_MUTATIONS) {
    const part = fixes.slice(i, i + MAX_MUTATIONS);
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const f of part) {
        if (f.now === 0n) op.delete(f.key);
        else op.set(f.key, new Deno.KvU64(f.now));
      }
      return op;
    });
    if (!res.ok) throw new Error(`counters of ${actionId} not rewritten`);
  }
  return {
    actionId,
    corrected: fixes.length,
    changes: fixes.slice(0, LISTED_CHANGES).map((f) => ({
      key: f.key,
      was: String(f.was),
      now: String(f.now),
    })),
  };
}
