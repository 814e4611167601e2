/**
 * Scheduling an action: validate, resolve the targets, write it all or nothing.
 *
 * THE VISIBILITY RULE. A large action takes many KV commits. Its record
 * `["actions", id]` is written in the last one, together with its stage, the
 * stage's due-index entry and the `total` counter; before that come a write
 * marker `["action_writes", id]` (first commit), the targets with the
 * instances' pending-target locks (in instance-id order), and the notification
 * rows. So:
 * - an action is visible exactly when its record exists (`isActionVisible` in
 *   lib/kv/actions.ts); every reader, the apply path (which starts from the
 *   stage due index, written last) and the notice sweep go through the action;
 * - a row, target or lock whose action record is missing belongs to a write
 *   in progress while its marker is younger than ABANDONED_WRITE_MS, and to an
 *   abandoned write otherwise (`actionWriteState`);
 * - a failed write removes its partial records itself; a crashed one is
 *   purged by the apply tick, or at once by a schedule that meets one of its
 *   locks. Purging first deletes the marker in a commit that checks the action
 *   is still missing, and the last commit checks the marker, so a write that
 *   was purged can never become visible.
 * - two writes over the same instance take its lock in the same order, so
 *   one of them wins whole and the other answers 409.
 */
import {
  badRequestOrThrow,
  checkImageTag,
  checkScheduledAt,
  MAX_AHEAD_MS,
  nameSome,
  problemsError,
  type ScheduleDeps,
} from "./schedule_checks.ts";
import {
  type HeldInstance,
  nothingLeft,
  scheduleWarnings,
  selectTargets,
} from "./target_selection.ts";
import { BadRequestError, ConflictError, type Issue } from "../errors.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import { newId } from "../ids.ts";
import type {
  ActionCounters,
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  User,
} from "../types.ts";
import {
  DEFAULT_CONCURRENCY,
  type PlannedWave,
  planWaves,
  strangerCanaries,
} from "./waves.ts";
import { InstanceLockedError, writeAction } from "./action_write.ts";
import {
  newActionAndStages,
  newActionRecords,
  newTargetRows,
} from "./action_records.ts";
import {
  DEFAULT_INLINE_TARGETS,
  type PreparedEntry,
  startPreparedWrite,
} from "./prepare_plan.ts";
import { runInBackground } from "./prepare_resume.ts";
import type { ScheduleInput } from "./schemas.ts";
import {
  type OwnerWindow,
  planOwnerWindows,
  readOwnerWindows,
} from "../owners/window_plan.ts";

export interface ScheduleOptions {
  /**
   * Leave out instances that already have a pending action (they are listed
   * in `excluded.pending`) instead of answering 409.
   */
  skipPending?: boolean;
  /**
   * A version change whose instances go to tags of their own (a rollback:
   * each back to where it came from); others take the action's tag.
   */
  targetImageTags?: ReadonlyMap<string, string>;
  /** Written on the action record: the action this one rolls back. */
  rollbackOf?: string;
}

import type { ScheduleWarning } from "../preview/preview_model.ts";
export type { ScheduleWarning };

export interface ScheduleResult {
  id: string;
  action: ScheduledAction;
  /** The first stage (wave 1). */
  stage: Stage;
  stages: Stage[];
  counters: ActionCounters;
  targets: { total: number };
  /**
   * Left out and why: destroyed instances; for a version change, instances
   * already on the target tag and (without `overridePins`) those pinned to
   * another tag (their owners are not warned about a change that would skip
   * them); with `skipPending`, instances another action already holds.
   */
  excluded: {
    destroyed: string[];
    pinned: string[];
    alreadyOnTag: string[];
    pending: string[];
  };
  warnings: ScheduleWarning[];
  /** With owners' windows: how many instances fell back to notBefore. */
  windows?: { fellBack: number };
  /**
   * A large action (over `scheduleInlineTargets` instances) answers at once,
   * `preparing`, and is written in the background: how far it got.
   */
  preparing?: { written: number; total: number; leftOut: number };
}

/** The waves of a new action: owners' windows, the rollout's waves, or none (one stage). */
function planStages(
  id: string,
  input: ScheduleInput,
  instances: Instance[],
  scheduledAtMs: number,
  concurrency: number,
  owners?: ReadonlyMap<string, OwnerWindow>,
): { waves?: PlannedWave[]; ownerWindows: boolean; fellBack?: number } {
  if (input.timing && owners) {
    const w = planOwnerWindows(
      instances,
      owners,
      Date.parse(input.timing.notBefore),
      Date.parse(input.timing.deadline),
    );
    return { waves: w.waves, ownerWindows: true, fellBack: w.fellBack };
  }
  return {
    waves: input.waves?.length
      ? planWaves(id, instances, input.waves, scheduledAtMs, concurrency)
      : undefined,
    ownerWindows: false,
  };
}

/** Owner by owner: an owner's rows are made one after another, so they lie together. */
const byOwner = (
  a: Pick<Instance, "ownerId" | "id">,
  b: Pick<Instance, "ownerId" | "id">,
) => a.ownerId.localeCompare(b.ownerId) || a.id.localeCompare(b.id);

function buildPlan(
  input: ScheduleInput,
  instances: Instance[],
  scheduledAtMs: number,
  actor: Pick<User, "id">,
  now: number,
  concurrency: number,
  opts: ScheduleOptions,
  owners?: ReadonlyMap<string, OwnerWindow>,
) {
  const id = newId();
  const planned = planStages(
    id,
    input,
    instances,
    scheduledAtMs,
    concurrency,
    owners,
  );
  const { action, stages, targets } = newActionRecords(input, instances, {
    id,
    createdBy: actor.id,
    scheduledAt: new Date(scheduledAtMs).toISOString(),
    now,
    targetId: newId,
    waves: planned.waves,
    ownerWindows: planned.ownerWindows,
    targetImageTags: opts.targetImageTags,
    rollbackOf: opts.rollbackOf,
  });
  // Row ids follow creation order, so an owner's rows lie together in the
  // due index and reach one dispatch group: one message per owner.
  const rows: Notification[] = [...targets].sort((a, b) =>
    a.userId.localeCompare(b.userId) || a.instanceId.localeCompare(b.instanceId)
  ).flatMap((t) => newTargetRows(action, stages[t.stageIndex], t, now));
  return { action, stages, targets, rows, fellBack: planned.fellBack };
}

/**
 * A large action: the plan is committed with the action `preparing`, and its
 * targets are written in the background (prepare.ts), started here.
 */
async function schedulePrepared(
  deps: ScheduleDeps,
  input: ScheduleInput,
  actor: Pick<User, "id">,
  opts: ScheduleOptions,
  o: {
    live: Instance[];
    scheduledAtMs: number;
    now: number;
    owners?: ReadonlyMap<string, OwnerWindow>;
  },
): Promise<Omit<ScheduleResult, "excluded" | "warnings">> {
  const id = newId();
  const planned = planStages(
    id,
    input,
    o.live,
    o.scheduledAtMs,
    deps.config.controllerConcurrency ?? DEFAULT_CONCURRENCY,
    o.owners,
  );
  const total = o.live.length;
  const { action, stages, waves } = newActionAndStages(
    input,
    () => o.live.map((i) => i.id),
    {
      id,
      createdBy: actor.id,
      scheduledAt: new Date(o.scheduledAtMs).toISOString(),
      now: o.now,
      waves: planned.waves,
      ownerWindows: planned.ownerWindows,
      rollbackOf: opts.rollbackOf,
      preparing: { total },
    },
  );
  const stageOf = new Map<string, number>();
  for (const w of waves) {
    for (const i of w.instanceIds) stageOf.set(i, w.index);
  }
  const entries: PreparedEntry[] = [...o.live].sort(byOwner).map((i) => {
    const tag = opts.targetImageTags?.get(i.id);
    return {
      instanceId: i.id,
      stageIndex: stageOf.get(i.id) ?? 0,
      ...(tag ? { targetImageTag: tag } : {}),
    };
  });
  const holder = newId();
  await startPreparedWrite(deps.kv, {
    action,
    stages,
    entries,
    now: o.now,
    holder,
  });
  (deps.startBackgroundWrite ??
    ((actionId, h) => runInBackground(deps, actionId, h)))(id, holder);
  return {
    id,
    action,
    stage: stages[0],
    stages,
    counters: { total: 0, applied: 0, skipped: 0, failed: 0 },
    targets: { total },
    preparing: { written: 0, total, leftOut: 0 },
    ...(planned.fellBack !== undefined
      ? { windows: { fellBack: planned.fellBack } }
      : {}),
  };
}

/**
 * Schedules a restart or version change. Throws BadRequestError (invalid
 * time, tag, unknown instances, nothing left to target) or ConflictError (an
 * instance already has a pending target, unless `skipPending`).
 */
export async function scheduleAction(
  deps: ScheduleDeps,
  input: ScheduleInput,
  actor: Pick<User, "id">,
  opts: ScheduleOptions = {},
): Promise<ScheduleResult> {
  const { kv } = deps;
  const now = deps.now();
  // Every problem at once: the time, the version and the instances.
  const problems: BadRequestError[] = [];
  let scheduledAtMs = NaN;
  try {
    scheduledAtMs = checkScheduledAt(
      input.scheduledAt,
      now,
      deps.config.scheduleMinAheadSeconds,
    );
  } catch (err) {
    problems.push(timingProblem(badRequestOrThrow(err), input));
  }
  if (input.timing) {
    const [issue] = deadlineIssues(input.timing.deadline, now);
    if (issue) {
      problems.push(
        new BadRequestError(`timing.deadline ${issue.message}`, [issue]),
      );
    }
  }
  if (input.actionType === "version_change") {
    await checkImageTag(kv, input.imageTag).catch((err) =>
      problems.push(badRequestOrThrow(err))
    );
  }
  const sel = await selectTargets(kv, input).catch((err) => {
    problems.push(badRequestOrThrow(err));
    return null;
  });
  if (problems.length === 1) throw problems[0];
  if (problems.length || !sel) {
    throw problemsError(problems.flatMap((e) => e.issues ?? []));
  }
  const strangers = strangerCanaries(input.waves, sel.live);
  if (strangers.length) {
    const message =
      `the hand-picked first wave names instances that are not among the action's instances: ${
        nameSome(strangers)
      }`;
    throw new BadRequestError(message, [
      { path: "waves.0.instanceIds", message },
    ]);
  }
  if (sel.pending.length && !opts.skipPending) {
    throw pendingConflict(sel.pending.map((h) => [h.instanceId, h]));
  }
  const skipped = new Set(sel.pending.map((h) => h.instanceId));
  let live = sel.live.filter((i) => !skipped.has(i.id));
  if (live.length === 0) {
    const message = nothingLeft(sel, opts.skipPending === true);
    const hint = sel.pinned.length
      ? " (set overridePins to change pinned ones)"
      : "";
    throw new BadRequestError(
      message.replace(/^Every/, "every").replace(/;/, `${hint};`)
        .replace(/\.$/, ""),
      [{ path: "instanceIds", message }],
    );
  }
  const owners = input.timing
    ? await readOwnerWindows(kv, live.map((i) => i.ownerId))
    : undefined;
  const excludedOf = (): ScheduleResult["excluded"] => ({
    destroyed: sel.destroyed,
    pinned: sel.pinned,
    alreadyOnTag: sel.alreadyOnTag,
    pending: [...skipped],
  });
  const inline = deps.config.scheduleInlineTargets ?? DEFAULT_INLINE_TARGETS;
  if (live.length > inline) {
    const started = await schedulePrepared(deps, input, actor, opts, {
      live,
      scheduledAtMs,
      now,
      owners,
    });
    return {
      ...started,
      excluded: excludedOf(),
      warnings: scheduleWarnings(input, now),
    };
  }
  // A schedule that took an instance since we looked wins it: with
  // skipPending that instance is left out too, and the write tried again.
  for (let attempt = 0;; attempt++) {
    const plan = buildPlan(
      input,
      live,
      scheduledAtMs,
      actor,
      now,
      deps.config.controllerConcurrency ?? DEFAULT_CONCURRENCY,
      opts,
      owners,
    );
    try {
      await writeAction(kv, plan, now);
      return {
        id: plan.action.id,
        action: plan.action,
        stage: plan.stages[0],
        stages: plan.stages,
        counters: { total: live.length, applied: 0, skipped: 0, failed: 0 },
        targets: { total: live.length },
        excluded: excludedOf(),
        warnings: scheduleWarnings(input, now),
        ...(plan.fellBack !== undefined
          ? { windows: { fellBack: plan.fellBack } }
          : {}),
      };
    } catch (err) {
      if (!(err instanceof InstanceLockedError)) throw err;
      const held = [...err.held].filter(([, lock]) => lock !== null);
      if (!opts.skipPending || attempt >= 2 || held.length === 0) {
        throw lockedConflict(err);
      }
      for (const [id] of held) skipped.add(id);
      live = live.filter((i) => !skipped.has(i.id));
      if (live.length === 0) {
        throw new ConflictError(
          "every instance chosen was taken by another action meanwhile; nothing was scheduled",
        );
      }
    }
  }
}

/** With timing, the first time is notBefore: its problem is named so. */
function timingProblem(
  err: BadRequestError,
  input: ScheduleInput,
): BadRequestError {
  if (!input.timing) return err;
  const issues = (err.issues ?? []).map((i) =>
    i.path === "scheduledAt" ? { ...i, path: "timing.notBefore" } : i
  );
  return new BadRequestError(
    err.message.replace(/^scheduledAt/, "timing.notBefore"),
    issues,
  );
}

/** A deadline more than a year ahead is refused, as a time that far is. */
export function deadlineIssues(deadline: string, now: number): Issue[] {
  return Date.parse(deadline) > now + MAX_AHEAD_MS
    ? [{
      path: "timing.deadline",
      message: `must be at most a year from now (by ${
        new Date(now + MAX_AHEAD_MS).toISOString()
      })`,
    }]
    : [];
}

/** Pinned to a tag other than the one a version change moves to: apply would skip it. */
function pendingConflict(
  held: [string, PendingTargetLock | HeldInstance | null][],
): ConflictError {
  const ids = held.map(([id]) => id);
  const issues: Issue[] = held.map(([instanceId, lock]) => ({
    path: "instanceIds",
    message: lock
      ? `instance ${instanceId} already has a pending target in action ${lock.actionId}`
      : `instance ${instanceId} is being scheduled by another request`,
  }));
  return new ConflictError(
    ids.length
      ? `instances already have a pending scheduled action: ${nameSome(ids)}`
      : "another request is scheduling these instances; try again",
    issues,
  );
}

function lockedConflict(err: InstanceLockedError): ConflictError {
  return pendingConflict([...err.held]);
}
