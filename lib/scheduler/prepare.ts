/**
 * A large action's write in the background (status `preparing`). An action
 * over `scheduleInlineTargets` instances is too large to write within one
 * request, so the request only checks it whole (400 and 409 as usual), then
 * commits the action record as `preparing`, its stages, and the instances
 * still to write in parts (owner by owner, so an owner's rows lie together
 * and reach one message). The write then goes on here:
 * - each commit writes some instances whole: the instance's lock, its target
 *   and its notification rows, with their counts, and checks the action
 *   record (a cancel stops the write at once) and that each lock is free
 *   (so a commit that landed before a crash is never written twice);
 * - the job record (`action_prepares`) says which part is next, under a
 *   lease: the process that scheduled it runs it at once, and the minute
 *   apply tick takes over a job whose lease ran out (a crash, a killed
 *   isolate);
 * - the last commit turns the action `scheduled` and puts its stages in the
 *   apply's due index. Until then the sweep leaves its rows alone and the
 *   apply never sees it: nothing is sent, nothing applied, and no half
 *   action is ever `scheduled`.
 * An instance another action took meanwhile, or destroyed meanwhile, is left
 * out and counted (`preparing.leftOut`). The plan and the job record are in
 * prepare_plan.ts; running writes in the background and taking over those
 * of a process that is gone, in prepare_resume.ts.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import {
  addToCounter,
  addToStageCounter,
  getActionCounters,
  getStageEntries,
  type PendingTargetLock,
} from "../kv/actions.ts";
import { getInstances } from "../kv/instances.ts";
import { commitPool, MAX_CHECKS, MAX_MUTATIONS } from "../kv/commits.ts";
import { MUTATIONS_PER_NEW_TARGET, putTarget } from "../apply/target_status.ts";
import { putStage } from "../apply/stage_status.ts";
import { addRowOfNewTarget } from "../notices/rows.ts";
import { counterKeysOf } from "../notices/counters.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";
import { newId } from "../ids.ts";
import { log } from "../operations/log.ts";
import { newTarget, newTargetRows } from "./action_records.ts";
import {
  dropPrepareJob,
  PREPARE_LEASE_MS,
  type PrepareChunk,
  type PrepareJob,
} from "./prepare_plan.ts";
import type { Notification, ScheduledAction, Target } from "../types.ts";

/** Commits in flight at once while a part is written. */
const WRITE_WIDTH = 4;

/** A new row's own writes: the record, its (target, kind, channel) key, its due key. */
const ROW_MUTATIONS = 3;

/** A target to write with its rows. */
interface NewTarget {
  target: Target;
  rows: Notification[];
}

/** Stopped because the action is no longer `preparing` (cancelled meanwhile). */
class PrepareStopped extends Error {}

export interface PrepareDeps {
  kv: Deno.Kv;
  now: () => number;
}

export type PrepareOutcome =
  /** Written whole: the action is `scheduled` (or cancelled, nothing left to write). */
  | "done"
  /** The action was cancelled meanwhile: the write stopped. */
  | "stopped"
  /** Another runner holds the lease, or there is no such job. */
  | "busy";

/**
 * Runs (or goes on with) the background write of `actionId` while it holds
 * the lease. Safe to call from several processes at once: one writes, the
 * others answer "busy"; two writers after a stalled lease never write an
 * instance twice (each commit checks its locks).
 */
export async function runPreparedWrite(
  deps: PrepareDeps,
  actionId: string,
  holder: string = newId(),
): Promise<PrepareOutcome> {
  const { kv } = deps;
  let job = await kv.get<PrepareJob>(keys.actionPrepare(actionId));
  if (!job.value) return "busy";
  if (job.value.holder !== holder && job.value.leaseUntil > deps.now()) {
    return "busy";
  }
  job = await renewLease(kv, job as Deno.KvEntry<PrepareJob>, holder, deps);
  if (!job.value) return "busy";
  try {
    for (;;) {
      const j = job.value as PrepareJob;
      const action = await kv.get<ScheduledAction>(keys.action(actionId));
      if (action.value?.status !== "preparing") throw new PrepareStopped();
      if (j.nextChunk >= j.chunks) {
        const done = await finishPreparedWrite(
          deps,
          action as Deno.KvEntry<ScheduledAction>,
          job as Deno.KvEntry<PrepareJob>,
        );
        return done ? "done" : "busy";
      }
      const chunk = await kv.get<PrepareChunk>(
        keys.prepareChunk(actionId, j.nextChunk),
      );
      const leftOut = chunk.value
        ? await writeChunk(
          deps,
          action as Deno.KvEntry<ScheduledAction>,
          chunk.value,
        )
        : 0;
      const next: PrepareJob = {
        ...j,
        nextChunk: j.nextChunk + 1,
        leftOut: j.leftOut + leftOut,
        holder,
        leaseUntil: deps.now() + PREPARE_LEASE_MS,
      };
      const res = await commitRetrying(() =>
        kv.atomic().check(job).set(keys.actionPrepare(actionId), next)
          .delete(keys.prepareChunk(actionId, j.nextChunk))
      );
      // Another runner took over after our lease ran out: it goes on.
      if (!res.ok) return "busy";
      job = { ...job, value: next, versionstamp: res.versionstamp };
    }
  } catch (err) {
    if (!(err instanceof PrepareStopped)) throw err;
    await dropPrepareJob(kv, actionId);
    return "stopped";
  }
}

async function renewLease(
  kv: Deno.Kv,
  job: Deno.KvEntry<PrepareJob>,
  holder: string,
  deps: PrepareDeps,
): Promise<Deno.KvEntryMaybe<PrepareJob>> {
  const next = {
    ...job.value,
    holder,
    leaseUntil: deps.now() + PREPARE_LEASE_MS,
  };
  const res = await kv.atomic().check(job)
    .set(keys.actionPrepare(job.value.actionId), next).commit();
  return res.ok
    ? { ...job, value: next, versionstamp: res.versionstamp }
    : { key: job.key, value: null, versionstamp: null };
}

/**
 * Writes one part: each instance not written yet gets its lock, target and
 * rows, many instances a commit. Answers how many were left out (taken by
 * another action, or destroyed, since the schedule).
 */
async function writeChunk(
  deps: PrepareDeps,
  action: Deno.KvEntry<ScheduledAction>,
  chunk: PrepareChunk,
): Promise<number> {
  const { kv } = deps;
  const a = action.value;
  const ids = chunk.instanceIds;
  const [instances, locks, stageEntries] = await Promise.all([
    getInstances(kv, ids),
    getManyChunked<PendingTargetLock>(
      kv,
      ids.map((id) => keys.instancePendingTarget(id)),
    ),
    getStageEntries(kv, a.id),
  ]);
  const stages = new Map(stageEntries.map((e) => [e.value.index, e.value]));
  const now = deps.now();
  const at = new Date(now).toISOString();
  let leftOut = 0;
  let lost = 0;
  const pool = commitPool(WRITE_WIDTH);
  // Each commit's records are made just before it is sent, so they die
  // young: a part's worth of targets and rows never piles up in memory.
  let unit: NewTarget[] = [];
  let unitStages = new Set<number>();
  let unitSums = new Set<string>();
  let checks = 1;
  let mutations = 1;
  const send = async () => {
    const full = unit;
    unit = [];
    unitStages = new Set();
    unitSums = new Set();
    checks = 1;
    mutations = 1;
    await pool.add(async () => {
      lost += await commitUnit(kv, action, full);
    });
  };
  try {
    for (const [i, id] of ids.entries()) {
      const lock = locks[i].value;
      if (lock?.actionId === a.id) continue; // written before a crash
      const instance = instances.get(id);
      if (lock || !instance || instance.status === "destroyed") {
        leftOut++;
        continue;
      }
      const stage = stages.get(chunk.stages[i]) ?? stageEntries[0].value;
      const target = newTarget(a, instance, {
        id: newId(),
        stageIndex: stage.index,
        at,
        targetImageTag: chunk.targetImageTags?.[i] ?? undefined,
      });
      const rows = newTargetRows(a, stage, target, now);
      // The counts a commit's rows move are added up per key (counters.ts):
      // each key costs one `sum`, however many rows it counts.
      const sums = rows.flatMap((r) => counterKeysOf(r).map(String));
      const cost = () =>
        MUTATIONS_PER_NEW_TARGET + rows.length * ROW_MUTATIONS +
        new Set(sums.filter((k) => !unitSums.has(k))).size +
        (unitStages.has(stage.index) ? 0 : 1);
      if (
        unit.length &&
        (checks + 1 > MAX_CHECKS || mutations + cost() > MAX_MUTATIONS)
      ) await send();
      mutations += cost();
      checks += 1;
      unit.push({ target, rows });
      unitStages.add(stage.index);
      for (const k of sums) unitSums.add(k);
    }
    if (unit.length) await send();
  } finally {
    await pool.drain();
  }
  return leftOut + lost;
}

/**
 * Commits instances whole; when a lock was taken meanwhile, leaves that
 * instance out (ours: written already) and commits the rest. Answers how
 * many another action took.
 */
async function commitUnit(
  kv: Deno.Kv,
  action: Deno.KvEntry<ScheduledAction>,
  unit: NewTarget[],
): Promise<number> {
  let lost = 0;
  for (let attempt = 0; unit.length; attempt++) {
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(action);
      const perStage = new Map<number, number>();
      for (const { target, rows } of unit) {
        op.check({
          key: keys.instancePendingTarget(target.instanceId),
          versionstamp: null,
        });
        putTarget(op, null, target);
        for (const row of rows) addRowOfNewTarget(op, row);
        perStage.set(
          target.stageIndex,
          (perStage.get(target.stageIndex) ?? 0) + 1,
        );
      }
      addToCounter(op, action.value.id, "total", unit.length);
      for (const [index, n] of perStage) {
        addToStageCounter(op, { actionId: action.value.id, index }, "total", n);
      }
      return op;
    });
    if (res.ok) return lost;
    const now = await kv.get<ScheduledAction>(keys.action(action.value.id));
    if (now.versionstamp !== action.versionstamp) throw new PrepareStopped();
    const locks = await getManyChunked<PendingTargetLock>(
      kv,
      unit.map((w) => keys.instancePendingTarget(w.target.instanceId)),
    );
    const free = unit.filter((_, i) => locks[i].value === null);
    lost += locks.filter((l) => l.value && l.value.actionId !== action.value.id)
      .length;
    if (attempt >= 5 && free.length === unit.length) {
      throw new Error(`writing action ${action.value.id} keeps failing`);
    }
    unit = free;
  }
  return lost;
}

/**
 * The last commit: the action turns `scheduled`, its stages become due, the
 * job ends. False when another runner holds the job now.
 */
async function finishPreparedWrite(
  deps: PrepareDeps,
  action: Deno.KvEntry<ScheduledAction>,
  job: Deno.KvEntry<PrepareJob>,
): Promise<boolean> {
  const { kv } = deps;
  const now = deps.now();
  const at = new Date(now).toISOString();
  const [stages, counts] = await Promise.all([
    getStageEntries(kv, action.value.id),
    getActionCounters(kv, action.value.id),
  ]);
  const a = action.value;
  const preparing = {
    total: a.preparing?.total ?? counts.total,
    leftOut: job.value.leftOut,
    writtenAt: at,
  };
  // Every instance was taken or destroyed meanwhile: nothing to do.
  const next: ScheduledAction = counts.total === 0
    ? {
      ...a,
      status: "cancelled",
      preparing,
      cancelledAt: at,
      finishedAt: at,
      updatedAt: at,
    }
    : { ...a, status: "scheduled", preparing, updatedAt: at };
  const res = await commitRetrying(() => {
    const op = kv.atomic().check(action).check(job)
      .set(keys.action(a.id), next)
      .delete(keys.actionPrepare(a.id));
    if (next.status === "scheduled") {
      for (const s of stages) {
        op.check(s);
        putStage(op, null, s.value);
      }
      addWebhookEvent(
        op,
        actionEvent("action.scheduled", next, now, {
          scheduledAt: stages[0]?.value.scheduledAt ?? null,
          counts,
        }),
      );
    } else {
      for (const s of stages) {
        op.check(s).set(s.key, {
          ...s.value,
          status: "cancelled",
          finishedAt: at,
        });
      }
    }
    return op;
  });
  if (!res.ok) {
    // A cancel came first (the write stops), or another runner took the job
    // over after our lease ran out (it goes on: its job is left alone).
    const now = await kv.get<ScheduledAction>(keys.action(a.id));
    if (now.versionstamp !== action.versionstamp) throw new PrepareStopped();
    return false;
  }
  log.info("a large action was written", {
    actionId: a.id,
    targets: counts.total,
    leftOut: job.value.leftOut,
  });
  return true;
}
