/**
 * Notification rows and the KV mutations that create and cancel them. The
 * scheduler calls these inside its own atomic operations so an action, its
 * targets and their rows appear (and are cancelled) together.
 */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import type {
  Channel,
  Notification,
  NotificationKind,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";

export const HOUR_MS = 3_600_000;
export const CANCELLED_BEFORE_DISPATCH =
  "action cancelled before notice was dispatched";

/** When a notice for this stage becomes due: scheduledAt − lead window. */
export function noticeDueAt(
  action: Pick<ScheduledAction, "noticeLeadHours">,
  stage: Pick<Stage, "scheduledAt">,
): number {
  return Date.parse(stage.scheduledAt) - action.noticeLeadHours * HOUR_MS;
}

function newRow(
  target: Target,
  kind: NotificationKind,
  channel: Channel,
  dueAt: number,
  now: number,
): Notification {
  const at = new Date(now).toISOString();
  return {
    id: newId(),
    actionId: target.actionId,
    stageIndex: target.stageIndex,
    targetId: target.id,
    instanceId: target.instanceId,
    userId: target.userId,
    kind,
    channel,
    status: "pending",
    dueAt,
    attempts: 0,
    batchId: null,
    claimedAt: null,
    sentAt: null,
    error: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** The pending notice rows a newly scheduled target gets: one per chosen channel, none with notify off. */
export function buildNoticeRows(
  action: ScheduledAction,
  stage: Stage,
  target: Target,
  now: number,
): Notification[] {
  if (!action.notify) return [];
  const dueAt = noticeDueAt(action, stage);
  return action.noticeChannels.map((channel) =>
    newRow(target, "notice", channel, dueAt, now)
  );
}

/** KV writes per row created with `addNewRow` (row, uniqueness index, due index). */
export const MUTATIONS_PER_NEW_ROW = 3;
/** KV checks per row created with `addNewRow` (the uniqueness index). */
export const CHECKS_PER_NEW_ROW = 1;

/** Adds a new pending row to `op`: the record, its (target, kind, channel) index and its due-index entry. */
export function addNewRow(
  op: Deno.AtomicOperation,
  row: Notification,
): Deno.AtomicOperation {
  const unique = keys.notificationByTarget(row.targetId, row.kind, row.channel);
  return op
    .check({ key: unique, versionstamp: null })
    .set(keys.notification(row.id), row)
    .set(unique, row.id)
    .set(keys.notificationDue(row.dueAt, row.id), null);
}

/** Reads a target's notification rows (at most one per kind and channel, so at most six). */
export async function readTargetRows(
  kv: Deno.Kv,
  targetId: string,
): Promise<Deno.KvEntry<Notification>[]> {
  const ids: string[] = [];
  for await (
    const e of kv.list<string>({ prefix: keys.notificationsByTarget(targetId) })
  ) {
    ids.push(e.value);
  }
  const out: Deno.KvEntry<Notification>[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const got = await kv.getMany<Notification[]>(
      ids.slice(i, i + 10).map((id) => keys.notification(id)),
    );
    for (const e of got) if (e.value) out.push(e as Deno.KvEntry<Notification>);
  }
  return out;
}

/**
 * Adds to `op` what cancelling a target does to its rows (DESIGN rule 4):
 * pending notices fail with "action cancelled before notice was dispatched",
 * and each channel whose notice was sent gets one pending `cancelled` row,
 * due at once. Rows still `sending` are left alone: marking them sent queues
 * their cancellation. Every row touched is checked by versionstamp.
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
    if (row.kind !== "notice") continue;
    if (row.status === "pending") {
      op.check(e)
        .set(
          keys.notification(row.id),
          {
            ...row,
            status: "failed",
            error: CANCELLED_BEFORE_DISPATCH,
            updatedAt: at,
          } satisfies Notification,
        )
        .delete(keys.notificationDue(row.dueAt, row.id));
    } else if (row.status === "sent" && !existingCancelled.has(row.channel)) {
      addNewRow(op, cancelledRowFor(row, now));
    }
  }
  return op;
}

/** The follow-up row for a notice that was sent and then cancelled: same target and channel, due now. */
export function cancelledRowFor(
  notice: Notification,
  now: number,
): Notification {
  const at = new Date(now).toISOString();
  return {
    ...notice,
    id: newId(),
    kind: "cancelled",
    status: "pending",
    dueAt: now,
    attempts: 0,
    batchId: null,
    claimedAt: null,
    sentAt: null,
    error: null,
    createdAt: at,
    updatedAt: at,
  };
}
