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
import type { z } from "zod";
import {
  BadRequestError,
  capIssues,
  ConflictError,
  type Issue,
  zodIssues,
} from "../errors.ts";
import { getCatalogEntry, ImageTagSchema } from "../kv/catalog.ts";
import { getInstances, listRunningInstanceIdsByTag } from "../kv/instances.ts";
import { keys } from "../kv/keys.ts";
import { getManyById, getManyChunked } from "../kv/read.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import { newId } from "../ids.ts";
import { buildNoticeRows, HOUR_MS } from "../notices/rows.ts";
import { formatDuration } from "../format.ts";
import type { Config } from "../config.ts";
import { isActionOpen, isPinnedAway } from "../types.ts";
import type {
  ActionCounters,
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  Target,
  User,
} from "../types.ts";
import { InstanceLockedError, writeAction } from "./action_write.ts";
import { MAX_TARGETS, type ScheduleInput } from "./schemas.ts";

export interface ScheduleDeps {
  kv: Deno.Kv;
  config: Pick<Config, "scheduleMinAheadSeconds">;
  now: () => number;
}

export interface ScheduleOptions {
  /**
   * Leave out instances that already have a pending action (they are listed
   * in `excluded.pending`) instead of answering 409.
   */
  skipPending?: boolean;
}

import type { ScheduleWarning } from "../preview/preview_model.ts";
export type { ScheduleWarning };

export interface ScheduleResult {
  id: string;
  action: ScheduledAction;
  stage: Stage;
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
}

/** An instance another visible action holds with a pending (or running) target. */
export interface HeldInstance {
  instanceId: string;
  actionId: string;
}

/** Who a schedule would reach, and who it leaves out and why. */
export interface TargetSelection {
  /** The ids asked for (duplicates folded) or that the selector names. */
  ids: string[];
  instances: Map<string, Instance>;
  destroyed: string[];
  pinned: string[];
  alreadyOnTag: string[];
  /** Held by another action; targeted only if that action lets go first. */
  pending: HeldInstance[];
  /** Everyone else, sorted by id: the targets (less `pending` when skipping). */
  live: Instance[];
}

/** An action is scheduled at most this far ahead. */
export const MAX_AHEAD_MS = 365 * 24 * 3_600_000;

/** How many ids an error message lists before it says "and N more". */
const NAMED_IN_MESSAGE = 20;

function nameSome(ids: string[]): string {
  const shown = ids.slice(0, NAMED_IN_MESSAGE).join(", ");
  return ids.length > NAMED_IN_MESSAGE
    ? `${shown} and ${
      (ids.length - NAMED_IN_MESSAGE).toLocaleString("en-US")
    } more`
    : shown;
}

/** Every problem with the action's time (none when it is fine). */
export function scheduledAtIssues(
  scheduledAt: string,
  now: number,
  minAheadSeconds: number,
): Issue[] {
  const at = Date.parse(scheduledAt);
  if (!Number.isFinite(at)) {
    return [{ path: "scheduledAt", message: "is not a date" }];
  }
  if (at <= now) return [{ path: "scheduledAt", message: "is in the past" }];
  if (at < now + minAheadSeconds * 1000) {
    return [{
      path: "scheduledAt",
      message: `must be at least ${minAheadSeconds} seconds from now`,
    }];
  }
  if (at > now + MAX_AHEAD_MS) {
    return [{
      path: "scheduledAt",
      message: `must be at most a year from now (by ${
        new Date(now + MAX_AHEAD_MS).toISOString()
      })`,
    }];
  }
  return [];
}

export function checkScheduledAt(
  scheduledAt: string,
  now: number,
  minAheadSeconds: number,
): number {
  const [issue] = scheduledAtIssues(scheduledAt, now, minAheadSeconds);
  if (issue) {
    throw new BadRequestError(`scheduledAt ${issue.message}`, [issue]);
  }
  return Date.parse(scheduledAt);
}

/** The problem with a version change's tag, or none. */
export async function imageTagIssues(
  kv: Deno.Kv,
  imageTag: string,
): Promise<Issue[]> {
  const entry = await getCatalogEntry(kv, imageTag);
  const problem = !entry
    ? `image tag ${imageTag} is not in the catalog`
    : !entry.available
    ? `image tag ${imageTag} is not available`
    : null;
  return problem ? [{ path: "imageTag", message: problem }] : [];
}

export async function checkImageTag(
  kv: Deno.Kv,
  imageTag: string,
): Promise<void> {
  const [issue] = await imageTagIssues(kv, imageTag);
  if (issue) throw new BadRequestError(issue.message, [issue]);
}

/**
 * A schedule body the schema refused, answered with every problem at once:
 * the schema's, and the time and version checks the schema cannot make,
 * whenever the fields they read are there to check.
 */
export async function invalidSchedule(
  deps: Pick<ScheduleDeps, "kv" | "config" | "now">,
  raw: unknown,
  error: z.ZodError,
): Promise<BadRequestError> {
  const issues = zodIssues(error);
  const body = (raw !== null && typeof raw === "object" ? raw : {}) as Record<
    string,
    unknown
  >;
  const at = !issues.some((i) => i.path === "scheduledAt") &&
      typeof body.scheduledAt === "string"
    ? scheduledAtIssues(
      body.scheduledAt,
      deps.now(),
      deps.config.scheduleMinAheadSeconds,
    )
    : [];
  const tag = body.actionType === "version_change" &&
      typeof body.imageTag === "string" &&
      !issues.some((i) => i.path === "imageTag") &&
      ImageTagSchema.safeParse(body.imageTag).success
    ? await imageTagIssues(deps.kv, body.imageTag)
    : [];
  return problemsError([...issues, ...at, ...tag]);
}

function badRequestOrThrow(err: unknown): BadRequestError {
  if (err instanceof BadRequestError) return err;
  throw err;
}

/** One 400 that names every problem, the first ones in its message. */
function problemsError(issues: Issue[]): BadRequestError {
  const listed = capIssues(issues);
  return new BadRequestError(
    `invalid request body: ${
      listed.map((i) =>
        i.path === "(more)" ? i.message : `${i.path}: ${i.message}`
      ).join("; ")
    }`,
    listed,
  );
}

/** Parses a schedule or move body, or throws a 400 naming every problem (see `invalidSchedule`). */
export async function parseScheduleBody<T extends z.ZodType>(
  deps: Pick<ScheduleDeps, "kv" | "config" | "now">,
  schema: T,
  raw: unknown,
): Promise<z.output<T>> {
  const r = schema.safeParse(raw);
  if (!r.success) throw await invalidSchedule(deps, raw, r.error);
  return r.data;
}

/** The ids asked for (duplicates folded) or the running instances the selector names. */
async function resolveInstanceIds(
  kv: Deno.Kv,
  input: ScheduleInput,
): Promise<string[]> {
  if (input.instanceIds) return [...new Set(input.instanceIds)];
  const tag = input.selector!.imageTag;
  const ids = await listRunningInstanceIdsByTag(kv, tag);
  if (ids.length === 0) {
    throw new BadRequestError(`no running instance is on image tag ${tag}`, [
      {
        path: "selector.imageTag",
        message: `No running instance is on image tag ${tag}.`,
      },
    ]);
  }
  if (ids.length > MAX_TARGETS) {
    throw new BadRequestError(
      `${ids.length} instances are on image tag ${tag}; at most ${MAX_TARGETS} in one action`,
      [{
        path: "selector.imageTag",
        message:
          `${ids.length} instances are on image tag ${tag}; one action takes at most ${MAX_TARGETS}.`,
      }],
    );
  }
  return ids;
}

/** Instances whose pending-target lock another visible, still open action holds. */
async function heldByOthers(
  kv: Deno.Kv,
  ids: string[],
): Promise<HeldInstance[]> {
  const locks = await getManyChunked<PendingTargetLock>(
    kv,
    ids.map((id) => keys.instancePendingTarget(id)),
  );
  const held = ids.flatMap((instanceId, i) => {
    const lock = locks[i].value;
    return lock ? [{ instanceId, actionId: lock.actionId }] : [];
  });
  // A lock of a write in progress (or abandoned) is the write's own business:
  // it wins or is purged when this schedule's write meets it.
  const actions = await getManyById<ScheduledAction>(
    kv,
    held.map((h) => h.actionId),
    keys.action,
  );
  return held.filter((h) => {
    const action = actions.get(h.actionId)?.value;
    return action ? isActionOpen(action) : false;
  });
}

/**
 * Resolves who a schedule reaches. Throws BadRequestError when an id is
 * unknown or the selector matches nothing; leaves deciding what an empty
 * `live` means to the caller.
 */
export async function selectTargets(
  kv: Deno.Kv,
  input: ScheduleInput,
): Promise<TargetSelection> {
  const ids = await resolveInstanceIds(kv, input);
  const instances = await getInstances(kv, ids);
  const unknown = ids.filter((id) => !instances.has(id));
  if (unknown.length) {
    throw new BadRequestError(`unknown instances: ${nameSome(unknown)}`, [
      {
        path: "instanceIds",
        message: `${unknown.length} chosen instance${
          unknown.length === 1 ? " does" : "s do"
        } not exist: ${nameSome(unknown)}.`,
      },
    ]);
  }
  const isVersion = input.actionType === "version_change";
  const destroyed = ids.filter((id) =>
    instances.get(id)!.status === "destroyed"
  );
  const gone = new Set(destroyed);
  const alreadyOnTag = isVersion
    ? ids.filter((id) =>
      !gone.has(id) && instances.get(id)!.imageTag === input.imageTag
    )
    : [];
  alreadyOnTag.forEach((id) => gone.add(id));
  const pinned = isVersion && !input.overridePins
    ? ids.filter((id) =>
      !gone.has(id) && isPinnedAway(instances.get(id)!, input.imageTag)
    )
    : [];
  pinned.forEach((id) => gone.add(id));
  const rest = ids.filter((id) => !gone.has(id)).sort();
  return {
    ids,
    instances,
    destroyed,
    pinned,
    alreadyOnTag,
    pending: await heldByOthers(kv, rest),
    live: rest.map((id) => instances.get(id)!),
  };
}

/** Why nothing is left to schedule, in the words an admin reads. */
function nothingLeft(sel: TargetSelection, skipPending: boolean): string {
  const why: string[] = [];
  if (sel.destroyed.length) why.push("destroyed");
  if (sel.alreadyOnTag.length) why.push("already on that tag");
  if (sel.pinned.length) why.push("pinned to another tag");
  if (skipPending && sel.pending.length) {
    why.push("held by another pending action");
  }
  const list = why.length > 1
    ? `${why.slice(0, -1).join(", ")} or ${why.at(-1)}`
    : why[0] ?? "left out";
  return `Every instance chosen is ${list}; nothing to schedule.`;
}

/** The time between now and the action, against the notice lead: what the admin should know. */
export function scheduleWarnings(
  input: Pick<ScheduleInput, "notify" | "noticeLeadHours">,
  scheduledAtMs: number,
  now: number,
): ScheduleWarning[] {
  if (!input.notify) return [];
  const left = scheduledAtMs - now;
  const lead = input.noticeLeadHours * HOUR_MS;
  if (lead > left) {
    return [{
      code: "notice_at_once",
      message:
        `The lead (${input.noticeLeadHours} h) is longer than the time left (${
          formatDuration(left)
        }): notices go out at once, only ${formatDuration(left)} ahead.`,
    }];
  }
  return [];
}

/**
 * The records of a new action over these instances: the action, its one
 * stage and a pending target per instance (the review builds the same for
 * its sample, with ids of its own).
 */
export function newActionRecords(
  input: ScheduleInput,
  instances: Instance[],
  o: {
    id: string;
    createdBy: string;
    scheduledAt: string;
    now: number;
    targetId: () => string;
  },
): { action: ScheduledAction; stage: Stage; targets: Target[] } {
  const at = new Date(o.now).toISOString();
  const imageTag = input.actionType === "version_change"
    ? input.imageTag
    : null;
  const action: ScheduledAction = {
    id: o.id,
    actionType: input.actionType,
    imageTag,
    overridePins: input.overridePins,
    reason: input.reason,
    notify: input.notify,
    noticeLeadHours: input.noticeLeadHours,
    reminderLeadHours: input.reminderLeadHours,
    doneChannels: input.doneChannels,
    noticeSubject: input.noticeSubject,
    noticeBody: input.noticeBody,
    noticeChannels: input.noticeChannels,
    status: "scheduled",
    createdBy: o.createdBy,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
    cancelledAt: null,
  };
  const stage: Stage = {
    actionId: action.id,
    index: 0,
    scheduledAt: o.scheduledAt,
    status: "pending",
    startedAt: null,
    finishedAt: null,
  };
  const targets: Target[] = instances.map((i) => ({
    id: o.targetId(),
    actionId: action.id,
    stageIndex: stage.index,
    instanceId: i.id,
    userId: i.ownerId,
    sourceImageTag: i.imageTag,
    targetImageTag: imageTag ?? i.imageTag,
    sourcePinnedImageTag: i.pinnedImageTag,
    status: "pending",
    skipReason: null,
    error: null,
    claimedAt: null,
    finishedAt: null,
    updatedAt: at,
    attempts: 0,
  }));
  return { action, stage, targets };
}

function buildPlan(
  input: ScheduleInput,
  instances: Instance[],
  scheduledAtMs: number,
  actor: Pick<User, "id">,
  now: number,
) {
  const { action, stage, targets } = newActionRecords(input, instances, {
    id: newId(),
    createdBy: actor.id,
    scheduledAt: new Date(scheduledAtMs).toISOString(),
    now,
    targetId: newId,
  });
  // Row ids follow creation order, so an owner's rows lie together in the
  // due index and reach one dispatch group: one message per owner. A notice
  // whose lead is longer than the time left is due now, never at a past
  // time (as a move that brings the time closer does it).
  const rows: Notification[] = [...targets].sort((a, b) =>
    a.userId.localeCompare(b.userId) || a.instanceId.localeCompare(b.instanceId)
  ).flatMap((t) => buildNoticeRows(action, stage, t, now)).map((row) =>
    row.kind === "notice" ? { ...row, dueAt: Math.max(now, row.dueAt) } : row
  );
  return { action, stage, targets, rows };
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
    problems.push(badRequestOrThrow(err));
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
  // A schedule that took an instance since we looked wins it: with
  // skipPending that instance is left out too, and the write tried again.
  for (let attempt = 0;; attempt++) {
    const plan = buildPlan(input, live, scheduledAtMs, actor, now);
    try {
      await writeAction(kv, plan, now);
      return {
        id: plan.action.id,
        action: plan.action,
        stage: plan.stage,
        counters: { total: live.length, applied: 0, skipped: 0, failed: 0 },
        targets: { total: live.length },
        excluded: {
          destroyed: sel.destroyed,
          pinned: sel.pinned,
          alreadyOnTag: sel.alreadyOnTag,
          pending: [...skipped],
        },
        warnings: scheduleWarnings(input, scheduledAtMs, now),
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
