/**
 * Who a schedule reaches: the instances asked for or named by a selector,
 * less the destroyed, the pinned, those already on the tag and those another
 * action holds; and what the admin should know about the time left.
 */
import { nameSome } from "./schedule_checks.ts";
import { BadRequestError } from "../errors.ts";
import { getInstances, listRunningInstancesByTag } from "../kv/instances.ts";
import { keys } from "../kv/keys.ts";
import { getExistingInRange, getManyById } from "../kv/batched_reads.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import { noticeDueAt } from "../due_times.ts";
import { formatDuration } from "../format.ts";
import { isActionOpen, isPinnedAway } from "../types.ts";
import type { Instance, ScheduledAction } from "../types.ts";
import { MAX_TARGETS, type ScheduleInput } from "./schemas.ts";
import type { ScheduleWarning } from "../preview/preview_model.ts";

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

/** The instances asked for (duplicates folded; unknown ones missing) or the running ones the selector names. */
async function resolveInstances(
  kv: Deno.Kv,
  input: ScheduleInput,
): Promise<{ ids: string[]; instances: Map<string, Instance> }> {
  if (input.instanceIds) {
    const ids = [...new Set(input.instanceIds)];
    return { ids, instances: await getInstances(kv, ids) };
  }
  const tag = input.selector!.imageTag;
  const running = await listRunningInstancesByTag(kv, tag);
  const ids = running.map((i) => i.id);
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
  return { ids, instances: new Map(running.map((i) => [i.id, i])) };
}

/** Instances whose pending-target lock another visible, still open action holds. */
async function heldByOthers(
  kv: Deno.Kv,
  ids: string[],
): Promise<HeldInstance[]> {
  // Few instances hold a lock: one range read over the ids finds them.
  const locks = await getExistingInRange<PendingTargetLock>(
    kv,
    keys.instancePendingTargets(),
    ids,
  );
  const held = ids.flatMap((instanceId) => {
    const lock = locks.get(instanceId)?.value;
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
    // A large action still being written holds what it has written.
    return action
      ? isActionOpen(action) || action.status === "preparing"
      : false;
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
  const { ids, instances } = await resolveInstances(kv, input);
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
export function nothingLeft(
  sel: TargetSelection,
  skipPending: boolean,
): string {
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

/**
 * The time left, rounded down under two days ("23 h 59 min"): rounded to the
 * hour it could read as long as the lead it falls short of.
 */
function timeLeftWords(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60 || minutes >= 48 * 60) return formatDuration(ms);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** The time between now and the action, against the notice lead: what the admin should know. */
export function scheduleWarnings(
  input: Pick<ScheduleInput, "notify" | "noticeLeadHours" | "scheduledAt">,
  now: number,
): ScheduleWarning[] {
  if (!input.notify) return [];
  const left = Date.parse(input.scheduledAt) - now;
  if (noticeDueAt(input, input) < now) {
    const shorter = timeLeftWords(left);
    return [{
      code: "notice_at_once",
      message:
        `The lead (${input.noticeLeadHours} h) is longer than the time left (${shorter}): notices go out at once, only ${shorter} ahead.`,
    }];
  }
  return [];
}

/**
 * The records of a new action over these instances: the action, its one
 * stage and a pending target per instance (the review builds the same for
 * its sample, with ids of its own).
 */
