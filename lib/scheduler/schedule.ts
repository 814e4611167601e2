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
import { BadRequestError, ConflictError, type Issue } from "../errors.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import { getInstances, listRunningInstanceIdsByTag } from "../kv/instances.ts";
import { newId } from "../ids.ts";
import { buildNoticeRows } from "../notices/rows.ts";
import type { Config } from "../config.ts";
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

export interface ScheduleResult {
  id: string;
  action: ScheduledAction;
  stage: Stage;
  counters: ActionCounters;
  targets: { total: number };
  /**
   * Left out and why: destroyed instances, and for a version change without
   * `overridePins`, instances pinned to another tag (their owners are not
   * warned about a change that would skip them).
   */
  excluded: { destroyed: string[]; pinned: string[] };
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

export function checkScheduledAt(
  scheduledAt: string,
  now: number,
  minAheadSeconds: number,
): number {
  const at = Date.parse(scheduledAt);
  if (!Number.isFinite(at)) {
    throw new BadRequestError(`scheduledAt is not a date`, [
      { path: "scheduledAt", message: "is not a date" },
    ]);
  }
  if (at <= now) {
    throw new BadRequestError(`scheduledAt ${scheduledAt} is in the past`, [
      { path: "scheduledAt", message: "is in the past" },
    ]);
  }
  if (at < now + minAheadSeconds * 1000) {
    const message = `must be at least ${minAheadSeconds} seconds from now`;
    throw new BadRequestError(`scheduledAt ${message}`, [
      { path: "scheduledAt", message },
    ]);
  }
  if (at > now + MAX_AHEAD_MS) {
    const message = `must be at most a year from now (by ${
      new Date(now + MAX_AHEAD_MS).toISOString()
    })`;
    throw new BadRequestError(`scheduledAt ${message}`, [
      { path: "scheduledAt", message },
    ]);
  }
  return at;
}

async function checkImageTag(kv: Deno.Kv, imageTag: string): Promise<void> {
  const entry = await getCatalogEntry(kv, imageTag);
  const problem = !entry
    ? `image tag ${imageTag} is not in the catalog`
    : !entry.available
    ? `image tag ${imageTag} is not available`
    : null;
  if (problem) {
    throw new BadRequestError(problem, [{
      path: "imageTag",
      message: problem,
    }]);
  }
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
      { path: "selector.imageTag", message: "matches no running instance" },
    ]);
  }
  if (ids.length > MAX_TARGETS) {
    throw new BadRequestError(
      `${ids.length} instances are on image tag ${tag}; at most ${MAX_TARGETS} in one action`,
      [{ path: "selector.imageTag", message: "matches too many instances" }],
    );
  }
  return ids;
}

function buildPlan(
  input: ScheduleInput,
  instances: Instance[],
  scheduledAtMs: number,
  actor: Pick<User, "id">,
  now: number,
) {
  const at = new Date(now).toISOString();
  const imageTag = input.actionType === "version_change"
    ? input.imageTag
    : null;
  const action: ScheduledAction = {
    id: newId(),
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
    createdBy: actor.id,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
    cancelledAt: null,
  };
  const stage: Stage = {
    actionId: action.id,
    index: 0,
    scheduledAt: new Date(scheduledAtMs).toISOString(),
    status: "pending",
    startedAt: null,
    finishedAt: null,
  };
  const targets: Target[] = instances.map((i) => ({
    id: newId(),
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
  // Row ids follow creation order, so an owner's rows lie together in the
  // due index and reach one dispatch group: one message per owner.
  const rows: Notification[] = [...targets].sort((a, b) =>
    a.userId.localeCompare(b.userId) || a.instanceId.localeCompare(b.instanceId)
  ).flatMap((t) => buildNoticeRows(action, stage, t, now));
  return { action, stage, targets, rows };
}

/**
 * Schedules a restart or version change. Throws BadRequestError (invalid
 * time, tag, unknown instances, nothing left to target) or ConflictError (an
 * instance already has a pending target).
 */
export async function scheduleAction(
  deps: ScheduleDeps,
  input: ScheduleInput,
  actor: Pick<User, "id">,
): Promise<ScheduleResult> {
  const { kv } = deps;
  const now = deps.now();
  const scheduledAtMs = checkScheduledAt(
    input.scheduledAt,
    now,
    deps.config.scheduleMinAheadSeconds,
  );
  if (input.actionType === "version_change") {
    await checkImageTag(kv, input.imageTag);
  }
  const ids = await resolveInstanceIds(kv, input);
  const found = await getInstances(kv, ids);
  const unknown = ids.filter((id) => !found.has(id));
  if (unknown.length) {
    throw new BadRequestError(`unknown instances: ${nameSome(unknown)}`, [
      { path: "instanceIds", message: `unknown: ${nameSome(unknown)}` },
    ]);
  }
  const destroyed = ids.filter((id) => found.get(id)!.status === "destroyed");
  const pinned = input.actionType === "version_change" && !input.overridePins
    ? ids.filter((id) => isPinnedAway(found.get(id)!, input.imageTag))
    : [];
  const left = new Set([...destroyed, ...pinned]);
  const live = ids.filter((id) => !left.has(id)).sort()
    .map((id) => found.get(id)!);
  if (live.length === 0) {
    const why = pinned.length
      ? destroyed.length
        ? "destroyed or pinned to another tag (set overridePins to change pinned ones)"
        : "pinned to another tag (set overridePins to change them)"
      : "destroyed";
    throw new BadRequestError(
      `every instance chosen is ${why}; nothing to schedule`,
      [{ path: "instanceIds", message: `every instance is ${why}` }],
    );
  }
  const plan = buildPlan(input, live, scheduledAtMs, actor, now);
  try {
    await writeAction(kv, plan, now);
  } catch (err) {
    if (err instanceof InstanceLockedError) throw lockedConflict(err);
    throw err;
  }
  return {
    id: plan.action.id,
    action: plan.action,
    stage: plan.stage,
    counters: { total: live.length, applied: 0, skipped: 0, failed: 0 },
    targets: { total: live.length },
    excluded: { destroyed, pinned },
  };
}

/** Pinned to a tag other than the one a version change moves to: apply would skip it. */
export function isPinnedAway(instance: Instance, imageTag: string): boolean {
  return instance.pinnedImageTag !== null &&
    instance.pinnedImageTag !== imageTag;
}

function lockedConflict(err: InstanceLockedError): ConflictError {
  const ids = [...err.held.keys()];
  const issues: Issue[] = [...err.held].map(([instanceId, lock]) => ({
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
