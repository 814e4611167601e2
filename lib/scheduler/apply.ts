/**
 * The apply tick (Deno.cron, every minute): every stage whose time has come
 * runs, each pending target is claimed (pending → running, checked against
 * the target's and the action's versionstamps so a cancel racing it leaves
 * the target either applied or cancelled), changed through the controller and
 * recorded; then the stage and the action finish.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getInstance } from "../kv/instances.ts";
import {
  addToCounter,
  allTargetIdsOfAction,
  getActionCounters,
  getTargetEntries,
} from "../kv/actions.ts";
import { isActionOpen, isStageLive, isWarning } from "../types.ts";
import type {
  ActionCounters,
  NoticeGroup,
  Notification,
  ScheduledAction,
  SkipReason,
  Stage,
  Target,
} from "../types.ts";
import type { ControllerResult, InstanceController } from "./controller.ts";
import { purgeAbandonedWrites } from "./action_write.ts";
import { finishCancel } from "./cancel.ts";
import { finishReschedule } from "./reschedule.ts";
import { addNewRow, buildDoneRows, readTargetRows } from "../notices/rows.ts";
import { heldBy } from "../notices/groups.ts";
import { getManyById } from "../kv/read.ts";
import { isPinnedAway } from "./schedule.ts";
import { forEachLimited } from "./commits.ts";

export interface ApplyDeps {
  kv: Deno.Kv;
  controller: InstanceController;
  now: () => number;
  /** Targets changed at once (default 8). */
  concurrency?: number;
  /** Waits for a notice's lease to end (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

/** The longest an apply waits in one tick for a notice in flight: the longest lease. */
const MAX_NOTICE_WAIT_MS = 3_600_000;

export interface ApplyResult {
  stages: number;
  applied: number;
  skipped: number;
  failed: number;
  recovered: number;
}

/** A target still running this long after its claim lost its applier (crash); it goes back to pending. */
export const STUCK_RUNNING_MS = 10 * 60_000;
/** Claims per target before a transient failure (or a lost applier) becomes final. */
export const MAX_APPLY_ATTEMPTS = 3;

type Outcome =
  | "applied"
  | "skipped"
  | "failed"
  | "retry"
  | "lost"
  | { wait: number };

export async function applyDue(deps: ApplyDeps): Promise<ApplyResult> {
  const { kv } = deps;
  const result: ApplyResult = {
    stages: 0,
    applied: 0,
    skipped: 0,
    failed: 0,
    recovered: 0,
  };
  await purgeAbandonedWrites(kv, deps.now());
  for await (const e of kv.list<number>({ prefix: keys.actionsCancelling() })) {
    await finishCancel(deps, e.key[1] as string);
  }
  for await (const e of kv.list({ prefix: keys.actionsRescheduling() })) {
    await finishReschedule(deps, e.key[1] as string);
  }
  result.recovered = await recoverStuckTargets(deps);
  const due: [string, number][] = [];
  for await (
    const e of kv.list({
      start: keys.stagesDue(),
      end: [...keys.stagesDue(), deps.now() + 1],
    })
  ) due.push([e.key[2] as string, e.key[3] as number]);
  for (const [actionId, index] of due) {
    const counts = await applyStage(deps, actionId, index);
    if (!counts) continue;
    result.stages++;
    result.applied += counts.applied;
    result.skipped += counts.skipped;
    result.failed += counts.failed;
  }
  return result;
}

async function readParents(kv: Deno.Kv, actionId: string, index: number) {
  const [action, stage] = await kv.getMany<[ScheduledAction, Stage]>([
    keys.action(actionId),
    keys.stage(actionId, index),
  ]);
  return { action, stage };
}

/** Runs one due stage; null when it was not runnable (cancelled, finished, or not visible). */
async function applyStage(
  deps: ApplyDeps,
  actionId: string,
  index: number,
): Promise<Omit<ActionCounters, "total"> | null> {
  const { kv } = deps;
  let { action, stage } = await readParents(kv, actionId, index);
  if (!action.value || !stage.value) return null;
  const live = isActionOpen(action.value) && isStageLive(stage.value);
  if (!live) {
    await kv.delete(
      keys.stageDue(Date.parse(stage.value.scheduledAt), actionId, index),
    );
    return null;
  }
  // Moved later after the due list was read: its time has not come.
  if (Date.parse(stage.value.scheduledAt) > deps.now()) return null;
  if (stage.value.status === "pending") {
    const at = new Date(deps.now()).toISOString();
    const a = action.value;
    const res = await commitRetrying(() =>
      kv.atomic().check(action).check(stage)
        .set(
          keys.stage(actionId, index),
          {
            ...stage.value!,
            status: "running",
            startedAt: at,
          } satisfies Stage,
        )
        .set(
          keys.action(actionId),
          {
            ...a,
            status: "running",
            startedAt: a.startedAt ?? at,
            updatedAt: at,
          } satisfies ScheduledAction,
        )
    );
    // Lost to a cancel (or to another tick): the next tick sees where it landed.
    if (!res.ok) return null;
    ({ action, stage } = await readParents(kv, actionId, index));
  }
  const counts = { applied: 0, skipped: 0, failed: 0 };
  const waiting: { id: string; until: number }[] = [];
  const tally = async (id: string) => {
    const outcome = await applyTarget(deps, id);
    if (typeof outcome === "object") waiting.push({ id, until: outcome.wait });
    else if (
      outcome === "applied" || outcome === "skipped" || outcome === "failed"
    ) counts[outcome]++;
  };
  const ids = await allTargetIdsOfAction(kv, actionId);
  for (let i = 0; i < ids.length; i += 200) {
    const pending = (await getTargetEntries(kv, ids.slice(i, i + 200)))
      .filter((e) =>
        e.value.status === "pending" && e.value.stageIndex === index
      );
    await forEachLimited(
      pending,
      deps.concurrency ?? 8,
      (e) => tally(e.value.id),
    );
  }
  if (waiting.length) {
    // A notice in flight goes out before the change, never after: wait for
    // its lease (at most one), then try those targets once more.
    const until = Math.max(...waiting.map((w) => w.until));
    const ms = Math.min(until - deps.now(), MAX_NOTICE_WAIT_MS) + 50;
    await (deps.sleep ?? ((t) => new Promise((r) => setTimeout(r, t))))(ms);
    const again = waiting.splice(0);
    await forEachLimited(again, deps.concurrency ?? 8, (w) => tally(w.id));
  }
  await finishStage(deps, actionId, index);
  return counts;
}

/** Claims, changes and records one target. */
async function applyTarget(
  deps: ApplyDeps,
  targetId: string,
): Promise<Outcome> {
  const { kv } = deps;
  const claimed = await claimTarget(deps, targetId);
  if (!claimed) return "lost";
  if (claimed.wait !== undefined) return { wait: claimed.wait };
  const { target, action } = claimed;
  let decision: { status: "applied" } | {
    status: "skipped";
    reason: SkipReason;
  } | {
    status: "failed" | "retry";
    error: string;
  };
  const instance = await getInstance(kv, target.value.instanceId);
  const respectPin = action.actionType === "version_change" &&
    !action.overridePins;
  if (!instance || instance.status === "destroyed") {
    decision = { status: "skipped", reason: "destroyed" };
  } else if (
    respectPin && isPinnedAway(instance, target.value.targetImageTag)
  ) {
    decision = { status: "skipped", reason: "pinned" };
  } else {
    const overridePin = action.actionType === "version_change" &&
      action.overridePins;
    const opts = {
      actionId: action.id,
      targetId,
      ...(respectPin
        ? { expectedPinnedImageTag: instance.pinnedImageTag }
        : {}),
      // Overriding pins removes the pin, only if it is the one seen when
      // the action was scheduled (else pin_changed_in_flight).
      ...(overridePin
        ? {
          removePin: true,
          expectedPinnedImageTag:
            target.value.sourcePinnedImageTag === undefined
              ? instance.pinnedImageTag
              : target.value.sourcePinnedImageTag,
        }
        : {}),
    };
    let res: ControllerResult;
    try {
      res = action.actionType === "version_change"
        ? await deps.controller.changeVersion(
          instance,
          target.value.targetImageTag,
          opts,
        )
        : await deps.controller.restart(instance, opts);
    } catch (err) {
      res = {
        ok: false,
        transient: true,
        error: String((err as Error)?.message ?? err),
      };
    }
    if (res.ok) decision = { status: "applied" };
    else if (res.skipReason) {
      decision = { status: "skipped", reason: res.skipReason };
    } else if (
      res.transient && (target.value.attempts ?? 1) < MAX_APPLY_ATTEMPTS
    ) {
      decision = { status: "retry", error: res.error };
    } else decision = { status: "failed", error: res.error };
  }
  const at = new Date(deps.now()).toISOString();
  const t = target.value;
  const next: Target = decision.status === "retry"
    ? {
      ...t,
      status: "pending",
      claimedAt: null,
      error: decision.error,
      updatedAt: at,
    }
    : {
      ...t,
      status: decision.status,
      skipReason: decision.status === "skipped" ? decision.reason : null,
      error: decision.status === "failed" ? decision.error : null,
      finishedAt: at,
      updatedAt: at,
    };
  const res = await commitRetrying(() => {
    const op = kv.atomic().check(target)
      .set(keys.target(t.id), next)
      .delete(keys.targetRunning(Date.parse(t.claimedAt!), t.id));
    if (decision.status !== "retry") {
      op.delete(keys.instancePendingTarget(t.instanceId));
      addToCounter(op, t.actionId, decision.status);
      for (const row of buildDoneRows(action, next, deps.now())) {
        addNewRow(op, row);
      }
    }
    return op;
  });
  // A failed check means recovery took the target back after all; the next claim settles it.
  if (!res.ok) return "lost";
  return decision.status;
}

async function claimTarget(deps: ApplyDeps, targetId: string) {
  const { kv } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const t = await kv.get<Target>(keys.target(targetId));
    if (t.value?.status !== "pending") return null;
    const a = await kv.get<ScheduledAction>(keys.action(t.value.actionId));
    if (a.value?.status !== "running") return null;
    // A notice being delivered right now goes out before the change, never
    // after it: wait while its group's lease lasts. The rows are checked in
    // the claim, so a sweep claiming one at the same moment makes one side
    // lose cleanly; a lease that ended means no send is in flight.
    const notices = (await readTargetRows(kv, targetId))
      .filter((e) => isWarning(e.value.kind));
    const leaseEnd = await noticeLeaseEnd(kv, notices.map((e) => e.value));
    if (leaseEnd > deps.now()) return { wait: leaseEnd };
    const now = deps.now();
    const at = new Date(now).toISOString();
    const running: Target = {
      ...t.value,
      status: "running",
      claimedAt: at,
      attempts: (t.value.attempts ?? 0) + 1,
      updatedAt: at,
    };
    const res = await commitRetrying(() =>
      kv.atomic().check(t, a, ...notices)
        .set(keys.target(targetId), running)
        .set(keys.targetRunning(now, targetId), null)
    );
    if (res.ok) {
      return {
        target: {
          ...t,
          value: running,
          versionstamp: res.versionstamp,
        } as Deno.KvEntry<Target>,
        action: a.value,
      };
    }
  }
  return null;
}

/** When the last lease holding one of these rows in `sending` ends (0: none is held). */
async function noticeLeaseEnd(
  kv: Deno.Kv,
  rows: Notification[],
): Promise<number> {
  const groups = await getManyById<NoticeGroup>(
    kv,
    rows.flatMap((r) => r.status === "sending" && r.groupId ? [r.groupId] : []),
    keys.noticeGroup,
  );
  let end = 0;
  for (const r of rows) {
    const g = r.groupId ? groups.get(r.groupId)?.value : null;
    if (g && heldBy(g, r)) end = Math.max(end, g.leaseUntil ?? 0);
  }
  return end;
}

/**
 * Stage and action finish once every target is done: completed, or failed
 * when nothing was applied or skipped. Counters are per action; with one
 * stage per action that is the stage's count too.
 */
async function finishStage(deps: ApplyDeps, actionId: string, index: number) {
  const { kv } = deps;
  for (let attempt = 0; attempt < 5; attempt++) {
    const c = await getActionCounters(kv, actionId);
    if (c.applied + c.skipped + c.failed < c.total) return;
    const { action, stage } = await readParents(kv, actionId, index);
    if (!action.value || !stage.value) return;
    if (action.value.status !== "running" || stage.value.status !== "running") {
      return;
    }
    const at = new Date(deps.now()).toISOString();
    const status = c.applied + c.skipped === 0 ? "failed" : "completed";
    const a = action.value;
    const s = stage.value;
    const res = await commitRetrying(() =>
      kv.atomic().check(action).check(stage)
        .set(
          keys.stage(actionId, index),
          { ...s, status, finishedAt: at } satisfies Stage,
        )
        .set(
          keys.action(actionId),
          {
            ...a,
            status,
            finishedAt: at,
            updatedAt: at,
          } satisfies ScheduledAction,
        )
        .delete(keys.stageDue(Date.parse(s.scheduledAt), actionId, index))
    );
    if (res.ok) return;
  }
}

/**
 * Targets whose applier vanished (claimed long ago, still running) go back to
 * pending for the stage's next run, or fail once they used their attempts.
 */
async function recoverStuckTargets(deps: ApplyDeps): Promise<number> {
  const { kv } = deps;
  const now = deps.now();
  let recovered = 0;
  for await (
    const e of kv.list({
      start: keys.targetsRunning(),
      end: [...keys.targetsRunning(), now - STUCK_RUNNING_MS + 1],
    })
  ) {
    const targetId = e.key[2] as string;
    const t = await kv.get<Target>(keys.target(targetId));
    const cur = t.value;
    const at = new Date(now).toISOString();
    const owner = cur
      ? (await kv.get<ScheduledAction>(keys.action(cur.actionId))).value
      : null;
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(t).delete(e.key);
      if (
        cur?.status !== "running" || Date.parse(cur.claimedAt!) !== e.key[1]
      ) return op;
      if ((cur.attempts ?? 1) >= MAX_APPLY_ATTEMPTS) {
        const failed: Target = {
          ...cur,
          status: "failed",
          error: `the apply did not finish after ${cur.attempts} attempts`,
          finishedAt: at,
          updatedAt: at,
        };
        op.set(keys.target(targetId), failed)
          .delete(keys.instancePendingTarget(cur.instanceId));
        addToCounter(op, cur.actionId, "failed");
        if (owner) {
          for (const row of buildDoneRows(owner, failed, now)) {
            addNewRow(op, row);
          }
        }
      } else {
        op.set(
          keys.target(targetId),
          {
            ...cur,
            status: "pending",
            claimedAt: null,
            error: "recovered: the apply did not finish",
            updatedAt: at,
          } satisfies Target,
        );
      }
      return op;
    });
    if (res.ok && cur?.status === "running") recovered++;
  }
  return recovered;
}
