/**
 * Notification rows and the KV mutations that create and cancel them. The
 * scheduler calls these inside its own atomic operations so an action, its
 * targets and their rows appear (and are cancelled) together.
 */
import { HOUR_MS, noticeDueAt, reminderDueAt } from "../due_times.ts";
import { keys } from "../kv/keys.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { newId } from "../ids.ts";
import { CHANNELS, isWarning } from "../types.ts";
import { asFailed, putRow } from "./row_status.ts";
import {
  COUNTER_MUTATIONS_PER_NEW_ROW,
  COUNTER_MUTATIONS_PER_ROW_CHANGE,
  countRowChange,
} from "./counters.ts";
import type {
  Channel,
  Notification,
  NotificationKind,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";

export const CANCELLED_BEFORE_DISPATCH =
  "action cancelled before notice was dispatched";
/** A cancelled notice whose earlier attempt may have been delivered (a timeout, a crash): a cancellation follows it. */
export const CANCELLED_AFTER_UNCERTAIN_DELIVERY =
  "action cancelled after a delivery attempt whose outcome is unknown; a cancellation follows";

/** Channels that send reminders: the banner stays up from the notice on, so it needs none. */
export const REMINDER_CHANNELS: readonly Channel[] = ["email", "mobile_push"];

type RowOwner = Pick<
  Notification,
  "actionId" | "stageIndex" | "targetId" | "instanceId" | "userId"
>;

/** A new pending row of `owner`; `buildNoticeRows` and the review use it. */
export function newRow(
  owner: RowOwner,
  kind: NotificationKind,
  channel: Channel,
  dueAt: number,
  now: number,
): Notification {
  const at = new Date(now).toISOString();
  return {
    id: newId(),
    actionId: owner.actionId,
    stageIndex: owner.stageIndex,
    targetId: owner.targetId,
    instanceId: owner.instanceId,
    userId: owner.userId,
    kind,
    channel,
    status: "pending",
    dueAt,
    attempts: 0,
    groupId: null,
    claimId: null,
    claimedAt: null,
    sentAt: null,
    error: null,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * The pending rows a newly scheduled target gets: a notice per chosen
 * channel, and a row per reminder on the email and push channels among
 * them; none with notify off. A reminder whose time has already come while
 * the action is being scheduled is skipped (the notice goes out now anyway).
 */
export function buildNoticeRows(
  action: ScheduledAction,
  stage: Stage,
  target: Target,
  now: number,
): Notification[] {
  if (!action.notify) return [];
  const dueAt = noticeDueAt(action, stage);
  const owner = { ...target, targetId: target.id };
  const rows = action.noticeChannels.map((channel) =>
    newRow(owner, "notice", channel, dueAt, now)
  );
  for (const lead of action.reminderLeadHours ?? []) {
    const due = reminderDueAt(lead, stage);
    if (due <= now) continue;
    for (const channel of action.noticeChannels) {
      if (!REMINDER_CHANNELS.includes(channel)) continue;
      rows.push({
        ...newRow(owner, "reminder", channel, due, now),
        reminderLeadHours: lead,
      });
    }
  }
  return rows;
}

/**
 * The rows telling the owner how the apply went, on the action's done
 * channels, due at once; none for a cancelled target (it was not done).
 */
export function buildDoneRows(
  action: ScheduledAction,
  target: Target,
  now: number,
): Notification[] {
  if (target.status === "skipped" && target.skipReason === "cancelled") {
    return [];
  }
  const owner = { ...target, targetId: target.id };
  return (action.doneChannels ?? []).map((channel) =>
    newRow(owner, "done", channel, now, now)
  );
}

/** KV writes per row created with `addNewRow` (row, uniqueness index, due index, its counts). */
export const MUTATIONS_PER_NEW_ROW = 3 + COUNTER_MUTATIONS_PER_NEW_ROW;
/** KV checks per row created with `addNewRow` (the uniqueness index). */
export const CHECKS_PER_NEW_ROW = 1;

/** A row's one (target, kind, channel) index key, and per lead time for reminders. */
function uniqueKeyOf(row: Notification): Deno.KvKey {
  return keys.notificationByTarget(
    row.targetId,
    row.kind,
    row.channel,
    row.kind === "reminder" ? row.reminderLeadHours : undefined,
  );
}

/** Adds a new pending row to `op`: the record, its (target, kind, channel) index and its due-index entry. */
export function addNewRow(
  op: Deno.AtomicOperation,
  row: Notification,
): Deno.AtomicOperation {
  const unique = uniqueKeyOf(row);
  op.check({ key: unique, versionstamp: null }).set(unique, row.id);
  return putRow(op, null, row);
}

/**
 * Adds a row of a target written in the same operation: nothing can hold its
 * (target, kind, channel) key yet, so unlike `addNewRow` it checks nothing.
 * The background write of a large action uses it, to fit a target with its
 * rows in one commit.
 */
export function addRowOfNewTarget(
  op: Deno.AtomicOperation,
  row: Notification,
): Deno.AtomicOperation {
  op.set(uniqueKeyOf(row), row.id);
  return putRow(op, null, row);
}

/**
 * A warning of these rows is being sent right now: what follows a change of
 * its time (a move, a hold, a postpone) waits for its outcome.
 */
export function warningInFlight(rows: Deno.KvEntry<Notification>[]): boolean {
  return rows.some((e) =>
    isWarning(e.value.kind) && e.value.status === "sending"
  );
}

/** Sent or failed: nothing will change the row any more. */
export function isRowEnded(row: Pick<Notification, "status">): boolean {
  return row.status === "sent" || row.status === "failed";
}

/**
 * Removes a sent or failed row with its (target, kind, channel) index: the
 * opposite of `addNewRow`, for the purge of old actions. An ended row has no
 * due key (`putRow`), so nothing else names it; it leaves its counts.
 */
export function removeEndedRow(
  op: Deno.AtomicOperation,
  row: Notification,
): Deno.AtomicOperation {
  if (!isRowEnded(row)) {
    throw new Error(`row ${row.id} is ${row.status}, not ended`);
  }
  op.delete(keys.notification(row.id)).delete(uniqueKeyOf(row));
  return countRowChange(op, row, null);
}

/**
 * Removes a row of a write that never became visible, with every key it has:
 * its by-target key (a reminder's carries its lead) and its due key. Its
 * counts are not taken back one by one (the row may never have been
 * written): the discard clears the action's counters whole.
 */
export function removeUnwrittenRow(
  op: Deno.AtomicOperation,
  row: Notification,
): Deno.AtomicOperation {
  return op.delete(keys.notification(row.id)).delete(uniqueKeyOf(row))
    .delete(keys.notificationDue(row.dueAt, row));
}

/** Reads a target's notification rows (at most one per kind and channel, so at most six). */
export async function readTargetRows(
  kv: Deno.Kv,
  targetId: string,
): Promise<Deno.KvEntry<Notification>[]> {
  return (await readRowsOfTargets(kv, [targetId])).get(targetId)!;
}

/** The rows of many targets: their indexes listed side by side, the rows read together. */
export async function readRowsOfTargets(
  kv: Deno.Kv,
  targetIds: string[],
): Promise<Map<string, Deno.KvEntry<Notification>[]>> {
  const indexed = await readIndexedRows(kv, targetIds);
  return new Map(
    [...indexed].map(([targetId, entries]) => [targetId, rowsIn(entries)]),
  );
}

/** The rows that exist among indexed ones. */
export function rowsIn(entries: IndexedRow[]): Deno.KvEntry<Notification>[] {
  return entries.flatMap((e) =>
    e.row.value ? [e.row as Deno.KvEntry<Notification>] : []
  );
}

/** A `notifications_by_target` key and the row it names (missing when the row is gone). */
export interface IndexedRow {
  key: Deno.KvKey;
  row: Deno.KvEntryMaybe<Notification>;
}

/**
 * Each target's index keys with the rows they name, in the index's order: the
 * indexes listed side by side, the rows read together. Each row goes to the
 * target whose index named it.
 */
export async function readIndexedRows(
  kv: Deno.Kv,
  targetIds: string[],
): Promise<Map<string, IndexedRow[]>> {
  const lists = await Promise.all(targetIds.map(async (targetId) => {
    const out: Deno.KvEntry<string>[] = [];
    for await (
      const e of kv.list<string>({
        prefix: keys.notificationsByTarget(targetId),
      })
    ) out.push(e);
    return out;
  }));
  const rows = await getManyChunked<Notification>(
    kv,
    lists.flat().map((e) => keys.notification(e.value)),
  );
  let at = 0;
  return new Map(
    targetIds.map((targetId, i) => [
      targetId,
      lists[i].map((e) => ({ key: e.key, row: rows[at++] })),
    ]),
  );
}

/** How long a cancelled banner may matter: the longest lead window, plus slack. */
const CANCELLED_BANNER_TTL_MS = 169 * HOUR_MS;

/** Warning rows a target may have per channel: its notice, two reminders and a rescheduled notice. */
const WARNINGS_PER_CHANNEL = 4;

/**
 * Upper bounds of what `addCancelMutations` adds for one target: each warning
 * row costs at most one check and two writes (its update, its due key) and
 * its counts, and each channel at most one follow-up row, plus the
 * cancelled-banner key.
 */
export const MAX_CANCEL_CHECKS_PER_TARGET = CHANNELS.length *
  (WARNINGS_PER_CHANNEL + CHECKS_PER_NEW_ROW);
export const MAX_CANCEL_MUTATIONS_PER_TARGET = CHANNELS.length *
    ((2 + COUNTER_MUTATIONS_PER_ROW_CHANGE) * WARNINGS_PER_CHANNEL +
      MUTATIONS_PER_NEW_ROW) + 1;

/** What the banner needs to say an action was called off; the rest is read from the records. */
export interface CancelledBanner {
  actionId: string;
  stageIndex: number;
  targetId: string;
  cancelledAt: string;
}

/**
 * Adds to `op` what cancelling a target does to its rows (DESIGN rule 4):
 * pending notices fail with "action cancelled before notice was dispatched",
 * and each channel whose notice was sent gets one pending `cancelled` row,
 * due at once. Rows still `sending` are only checked: marking them sent
 * queues their cancellation, and the check makes the cancel retry (and see
 * `sent`) if the mark lands first. When the banner had been showing, the
 * instance's cancelled-banner key is set so the workspace can say so.
 */
export function addCancelMutations(
  op: Deno.AtomicOperation,
  entries: Deno.KvEntry<Notification>[],
  now: number,
): Deno.AtomicOperation {
  const at = new Date(now).toISOString();
  const existingCancelled = new Set(
    entries.filter((e) => e.value.kind === "cancelled").map((e) =>
      e.value.channel
    ),
  );
  for (const e of entries) {
    const row = e.value;
    // A hold not yet announced says nothing once the change is called off.
    if (row.kind === "on_hold" && row.status === "pending") {
      putRow(op.check(e), row, asFailed(row, CANCELLED_BEFORE_DISPATCH, now));
      continue;
    }
    if (!isWarning(row.kind)) continue;
    const bannerShown = row.kind === "notice" && row.channel === "webapp" &&
      (row.status === "sent" ||
        ((row.status === "pending" || row.status === "sending") &&
          row.dueAt <= now));
    if (bannerShown) {
      op.set(
        keys.cancelledBanner(row.instanceId),
        {
          actionId: row.actionId,
          stageIndex: row.stageIndex,
          targetId: row.targetId,
          cancelledAt: at,
        } satisfies CancelledBanner,
        { expireIn: CANCELLED_BANNER_TTL_MS },
      );
    }
    if (row.status === "sending") {
      op.check(e);
    } else if (row.status === "pending") {
      // A row waiting to retry after an attempt with no clear answer (a
      // timeout, a crash) may have reached the user: its cancellation follows.
      const mayHaveArrived = row.deliveryUncertain === true;
      putRow(
        op.check(e),
        row,
        asFailed(
          row,
          mayHaveArrived
            ? CANCELLED_AFTER_UNCERTAIN_DELIVERY
            : CANCELLED_BEFORE_DISPATCH,
          now,
        ),
      );
      if (mayHaveArrived && !existingCancelled.has(row.channel)) {
        addNewRow(op, cancelledRowFor(row, now));
        existingCancelled.add(row.channel);
      }
    } else if (
      (row.status === "sent" ||
        (row.status === "failed" && row.deliveryUncertain === true)) &&
      !existingCancelled.has(row.channel)
    ) {
      // A notice and its rescheduled follow-up on one channel get one cancellation.
      addNewRow(op, cancelledRowFor(row, now));
      existingCancelled.add(row.channel);
    }
  }
  return op;
}

/** The follow-up row for a notice that was sent and then cancelled: same target and channel, due now. */
export function cancelledRowFor(
  notice: Notification,
  now: number,
): Notification {
  return newRow(notice, "cancelled", notice.channel, now, now);
}

/** The follow-up row for a warned owner whose action moved: same target and channel, due now. */
export function rescheduledRowFor(
  notice: Notification,
  movedFrom: string,
  movedTo: string,
  now: number,
): Notification {
  return {
    ...newRow(notice, "rescheduled", notice.channel, now, now),
    movedFrom,
    movedTo,
  };
}

/**
 * The follow-up row for a warned owner whose rollout paused before their
 * wave: same target and channel, due once their time is within the notice
 * lead; `movedFrom` holds the time it says will not happen.
 */
export function onHoldRowFor(
  notice: Notification,
  heldTime: string,
  dueAt: number,
  now: number,
): Notification {
  return {
    ...newRow(notice, "on_hold", notice.channel, dueAt, now),
    movedFrom: heldTime,
  };
}

/**
 * The due time of a warning held by a paused rollout: never, until a resume
 * re-times it (the largest time a Date holds, so it sorts after every real one).
 */
export const HELD_DUE_AT = 8_640_000_000_000_000;

const STATUSES = new Set(["pending", "sending", "sent", "failed"]);
const KINDS = new Set([
  "notice",
  "reminder",
  "cancelled",
  "rescheduled",
  "done",
  "on_hold",
]);
const CHANNEL_SET = new Set<unknown>(CHANNELS);

/**
 * Checks a stored value is a usable notification row. Returns the reason it
 * is not, so one damaged row can be failed on its own (DESIGN rule 7).
 */
export function rowProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "not an object";
  const v = value as Record<string, unknown>;
  for (const f of ["id", "actionId", "targetId", "instanceId", "userId"]) {
    if (typeof v[f] !== "string" || !v[f]) return `${f} is missing`;
  }
  if (!KINDS.has(v.kind as string)) return `unknown kind ${String(v.kind)}`;
  if (!CHANNEL_SET.has(v.channel)) {
    return `unknown channel ${String(v.channel)}`;
  }
  if (!STATUSES.has(v.status as string)) {
    return `unknown status ${String(v.status)}`;
  }
  if (!Number.isInteger(v.stageIndex)) return "stageIndex is missing";
  if (!Number.isFinite(v.dueAt)) return "dueAt is missing";
  if (!Number.isInteger(v.attempts)) return "attempts is missing";
  return null;
}
