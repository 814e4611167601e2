/**
 * What a large action's background write (`preparing`, see prepare.ts)
 * starts from and how far it is: the plan of instances in parts, the job
 * record under its lease, the progress the page and the API show, and the
 * removal of a write that ended.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getActionCounters } from "../kv/actions.ts";
import type { ScheduledAction, Stage } from "../types.ts";

/** Where a background write stands. */
export interface PrepareJob {
  actionId: string;
  /** Parts of `prepareChunk`, and the next one to write. */
  chunks: number;
  nextChunk: number;
  /** Instances left out in the parts written so far. */
  leftOut: number;
  /** Who runs it, until when (epoch ms); another may take over after. */
  holder: string | null;
  leaseUntil: number;
  startedAt: number;
}

/** Instances still to write, owner by owner, each with its stage (and, in a rollback, its tag). */
export interface PrepareChunk {
  instanceIds: string[];
  stages: number[];
  targetImageTags?: (string | null)[];
}

/** One instance of the plan, in the order it is written. */
export interface PreparedEntry {
  instanceId: string;
  stageIndex: number;
  targetImageTag?: string;
}

/** Actions of at most this many instances are written within the request (`scheduleInlineTargets`). */
export const DEFAULT_INLINE_TARGETS = 10_000;
/** A runner renews its lease at every part; a part takes well under this. */
export const PREPARE_LEASE_MS = 30_000;
/** A part's ids stay far below KV's 64 KiB value limit. */
const CHUNK_CHARS = 40_000;
const CHUNK_MAX = 2_000;

/** Cuts the plan into parts of a size KV keeps in one value. */
export function chunkPlan(entries: PreparedEntry[]): PrepareChunk[] {
  const out: PrepareChunk[] = [];
  let cur: PrepareChunk | null = null;
  let chars = 0;
  const rollback = entries.some((e) => e.targetImageTag !== undefined);
  for (const e of entries) {
    const size = e.instanceId.length + (e.targetImageTag?.length ?? 0) + 8;
    if (
      !cur || chars + size > CHUNK_CHARS || cur.instanceIds.length >= CHUNK_MAX
    ) {
      cur = {
        instanceIds: [],
        stages: [],
        ...(rollback ? { targetImageTags: [] } : {}),
      };
      out.push(cur);
      chars = 0;
    }
    cur.instanceIds.push(e.instanceId);
    cur.stages.push(e.stageIndex);
    cur.targetImageTags?.push(e.targetImageTag ?? null);
    chars += size;
  }
  return out;
}

/**
 * Commits what the background write starts from: the parts, then in one
 * commit the action (`preparing`), its stages (not yet due) and the job,
 * leased to `holder`. A crash before that last commit leaves only parts
 * nobody names (`purgeOrphanChunks` removes them).
 */
export async function startPreparedWrite(
  kv: Deno.Kv,
  o: {
    action: ScheduledAction;
    stages: Stage[];
    entries: PreparedEntry[];
    now: number;
    holder: string;
  },
): Promise<void> {
  const { action } = o;
  const chunks = chunkPlan(o.entries);
  for (let i = 0; i < chunks.length; i += 8) {
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      chunks.slice(i, i + 8).forEach((c, j) =>
        op.set(keys.prepareChunk(action.id, i + j), { ...c, writtenAt: o.now })
      );
      return op;
    });
    if (!res.ok) throw new Error(`could not write the plan of ${action.id}`);
  }
  const job: PrepareJob = {
    actionId: action.id,
    chunks: chunks.length,
    nextChunk: 0,
    leftOut: 0,
    holder: o.holder,
    leaseUntil: o.now + PREPARE_LEASE_MS,
    startedAt: o.now,
  };
  const res = await commitRetrying(() => {
    const op = kv.atomic()
      .check({ key: keys.action(action.id), versionstamp: null })
      .set(keys.action(action.id), action)
      .set(keys.actionPrepare(action.id), job);
    // The stage records only: their due keys come with the last commit.
    for (const s of o.stages) op.set(keys.stage(s.actionId, s.index), s);
    return op;
  });
  if (!res.ok) throw new Error(`action id ${action.id} is already in use`);
}

/** Removes a stopped write's job and the parts it had left. */
export async function dropPrepareJob(
  kv: Deno.Kv,
  actionId: string,
): Promise<void> {
  const stale: Deno.KvKey[] = [keys.actionPrepare(actionId)];
  for await (const e of kv.list({ prefix: keys.prepareChunks(actionId) })) {
    stale.push(e.key);
  }
  for (let i = 0; i < stale.length; i += 500) {
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const key of stale.slice(i, i + 500)) op.delete(key);
      return op;
    });
  }
}

/** The action's background write as the page and the API show it (null: not preparing). */
export async function preparingProgress(
  kv: Deno.Kv,
  action: ScheduledAction,
): Promise<{ written: number; total: number; leftOut: number } | null> {
  if (action.status !== "preparing") return null;
  const [counts, job] = await Promise.all([
    getActionCounters(kv, action.id),
    kv.get<PrepareJob>(keys.actionPrepare(action.id)),
  ]);
  return {
    written: counts.total,
    total: action.preparing?.total ?? counts.total,
    leftOut: job.value?.leftOut ?? 0,
  };
}
