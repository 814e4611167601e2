/**
 * What the admin's action page shows, as plain data: progress, notices per
 * channel, each target with its notices (recipient, attempts, last error,
 * next attempt, sent time, the outbox message), and who cancelled what. The
 * page renders it, and its island polls `GET
 * /api/admin/scheduled-actions/:id/progress` for the same while anything is
 * still to happen.
 */
import { nameAndEmail } from "../kv/users.ts";
import { type ActionDetail, getActionDetail } from "./action_reads.ts";
import type { RollbackLink } from "./action_view_model.ts";
import { listCancellations } from "../scheduler/cancel_with_reason.ts";
import { getProgressCounts } from "../kv/actions.ts";
import {
  countRunningTargets,
  ensureOutcomeIndex,
} from "../apply/target_outcomes.ts";
import { noticeDueAt, reminderDueAt } from "../due_times.ts";
import { getInstances } from "../kv/instances.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import { keys } from "../kv/keys.ts";
import { getManyById } from "../kv/batched_reads.ts";
import { type RecentChanges, recentChanges } from "../kv/audit.ts";
import { getLastSweepRun } from "../notices/sweep.ts";
import { HELD_DUE_AT } from "../notices/rows.ts";
import { outboxIdsOfNotification, outboxPushIds } from "../channels/outbox.ts";
import { pushEvent } from "../channels/push_texts.ts";
import { forEachLimited } from "../kv/commits.ts";
import { actionLabel } from "@/lib/action_words.ts";
import type {
  ActionStatus,
  Channel,
  Notification,
  NotificationKind,
  ProgressCounts,
  ScheduledAction,
  Stage,
  TargetOutcome,
  User,
} from "../types.ts";
import { CHANNELS, isWarning } from "../types.ts";
import { API_TOKEN_ACTOR_ID } from "../ids.ts";
import type {
  ActionView,
  ChannelCount,
  NoticeView,
  TargetView,
} from "./action_view_model.ts";

export type { ActionView, ChannelCount, NoticeView, TargetView };

/** Still to move: a paused rollout waits for an admin, and the page follows it. */
const OPEN: ActionStatus[] = ["preparing", "scheduled", "running", "paused"];

function userLabel(u: User | null | undefined, id: string): string {
  // The API token's id is reserved: a stray user record with it is never its author.
  if (id === API_TOKEN_ACTOR_ID) return "the admin API token";
  return u ? nameAndEmail(u) : `user ${id}`;
}

/** The admin's action page: the view, and the latest changes to the action. */
export async function getActionPage(
  kv: Deno.Kv,
  id: string,
  opts: {
    targetCursor: string | null;
    outcome?: TargetOutcome;
    pushViaOutbox: boolean;
  },
): Promise<{ view: ActionView; audit: RecentChanges }> {
  const [view, audit] = await Promise.all([
    getActionView(kv, id, opts),
    recentChanges(kv, { type: "action", id }),
  ]);
  return { view, audit };
}

export async function getActionView(
  kv: Deno.Kv,
  id: string,
  opts: {
    targetCursor?: string | null;
    targetLimit?: number;
    outcome?: TargetOutcome;
    pushViaOutbox: boolean;
  },
): Promise<ActionView> {
  const detailRead = getActionDetail(kv, id, {
    targetCursor: opts.targetCursor,
    targetLimit: opts.targetLimit ?? 50,
    outcome: opts.outcome,
  });
  const [detail, lastRun, cancellations, counters, running] = await Promise
    .all([
      detailRead,
      getLastSweepRun(kv),
      listCancellations(kv, id),
      getProgressCounts(kv, id),
      // Only for an action that exists and a page that is well asked for:
      // an older action's outcome index is built on its first page view.
      detailRead.then(() => ensureOutcomeIndex(kv, id)).then(() =>
        countRunningTargets(kv, id)
      ),
    ]);
  const { action } = detail;
  const items = detail.targets.items;
  const [instances, users, version] = await Promise.all([
    getInstances(kv, items.map((t) => t.target.instanceId)),
    getManyById<User>(
      kv,
      [...items.map((t) => t.target.userId), action.createdBy],
      keys.user,
    ),
    action.imageTag
      ? getCatalogEntry(kv, action.imageTag).then((c) =>
        c?.openclawVersion ?? null
      )
      : null,
  ]);
  const userOf = (uid: string) => users.get(uid)?.value ?? null;
  const byTarget = new Map(
    cancellations.filter((c) => c.targetId).map((c) => [c.targetId!, c]),
  );
  const targets: TargetView[] = [];
  await forEachLimited(items, 8, async ({ target, notifications }) => {
    const owner = userOf(target.userId);
    targets.push({
      id: target.id,
      instanceId: target.instanceId,
      instanceName: instances.get(target.instanceId)?.name ?? null,
      owner: userLabel(owner, target.userId),
      from: target.sourceImageTag,
      to: target.targetImageTag,
      status: target.status,
      skipReason: target.skipReason,
      error: target.error,
      finishedAt: target.finishedAt,
      cancellation: byTarget.get(target.id) ?? null,
      notices: await Promise.all(
        sortRows(notifications).map((n) =>
          noticeView(kv, n, action, owner, opts.pushViaOutbox)
        ),
      ),
    });
  });
  // forEachLimited finishes in any order; the page keeps the stored order.
  const order = new Map(items.map((t, i) => [t.target.id, i]));
  targets.sort((a, b) => order.get(a.id)! - order.get(b.id)!);

  // The counts came with the action's detail: one read of the counters.
  const counts = countNotices(action, detail, Date.now());
  const rollback = await rollbackLinks(kv, action);
  const stage = detail.stages[0] ?? null;
  const live = OPEN.includes(action.status) || counts.nextDueAt !== null;
  return {
    action: {
      ...action,
      label: actionLabel(action, version),
      creator: userLabel(userOf(action.createdBy), action.createdBy),
    },
    scheduledAt: stage?.scheduledAt ?? null,
    stageStatus: stage?.status ?? null,
    stages: detail.stages,
    rollback,
    counters,
    notices: counts,
    cancellation: cancellations.find((c) => c.targetId === null) ?? null,
    outcomes: outcomeCounts(counters, running),
    outcome: opts.outcome ?? null,
    targets,
    cursor: detail.targets.cursor,
    lastRun,
    live,
    ...(detail.preparing ? { preparing: detail.preparing } : {}),
  };
}

/** Each outcome's count: the ended ones are counted as they end, the running ones by key, the rest are pending. */
function outcomeCounts(
  c: ProgressCounts,
  running: number,
): Record<TargetOutcome, number> {
  const ended = c.applied + c.skipped + c.cancelled + c.failed;
  return {
    pending: Math.max(0, c.total - ended - running),
    running,
    applied: c.applied,
    skipped: c.skipped,
    cancelled: c.cancelled,
    failed: c.failed,
  };
}

/**
 * The action this one rolls back, and the newest action rolling this one
 * back (found among the actions created after it, which ids order).
 */
async function rollbackLinks(
  kv: Deno.Kv,
  action: ScheduledAction,
): Promise<ActionView["rollback"]> {
  const link = async (a: ScheduledAction): Promise<RollbackLink> => ({
    id: a.id,
    label: actionLabel(
      a,
      a.imageTag
        ? (await getCatalogEntry(kv, a.imageTag))?.openclawVersion
        : null,
    ),
    status: a.status,
  });
  const of = action.rollbackOf
    ? (await kv.get<ScheduledAction>(keys.action(action.rollbackOf))).value
    : null;
  let by: ScheduledAction | null = null;
  if (action.actionType === "version_change") {
    const later = kv.list<ScheduledAction>({
      start: [...keys.actions(), action.id],
      end: [...keys.actions(), "\uffff"],
    }, { limit: ROLLBACK_SCAN });
    for await (const e of later) {
      if (e.value.rollbackOf === action.id) by = e.value;
    }
  }
  return { of: of && await link(of), by: by && await link(by) };
}

/** How many later actions are looked through for this one's rollback. */
const ROLLBACK_SCAN = 200;

const KIND_ORDER: Record<NotificationKind, number> = {
  notice: 0,
  reminder: 1,
  rescheduled: 2,
  on_hold: 3,
  cancelled: 4,
  done: 5,
};

function sortRows(rows: Notification[]): Notification[] {
  return [...rows].sort((a, b) =>
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    (b.reminderLeadHours ?? 0) - (a.reminderLeadHours ?? 0) ||
    CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel)
  );
}

/** A sent push with nothing delivered: no outbox message in its window, or (with Expo) no device now. */
async function pushReachedNobody(
  kv: Deno.Kv,
  n: Notification,
  action: ScheduledAction,
  owner: User | null,
  viaOutbox: boolean,
): Promise<boolean> {
  if (n.channel !== "mobile_push" || n.status !== "sent") return false;
  if (!viaOutbox) return (owner?.pushTokens.length ?? 0) === 0;
  const from = Date.parse(n.claimedAt ?? n.createdAt) - 1000;
  const to = Date.parse(n.sentAt ?? n.updatedAt) + 1000;
  const ids = await outboxPushIds(
    kv,
    n.instanceId,
    pushEvent(action.actionType, n.kind),
    from,
    to,
  );
  return ids.length === 0;
}

async function noticeView(
  kv: Deno.Kv,
  n: Notification,
  action: ScheduledAction,
  owner: User | null,
  viaOutbox: boolean,
): Promise<NoticeView> {
  const noDevice = await pushReachedNobody(kv, n, action, owner, viaOutbox);
  let outboxId: string | null = null;
  if (n.status === "sent" && n.channel === "email") {
    outboxId = (await outboxIdsOfNotification(kv, n.id))[0] ?? null;
  } else if (n.status === "sent" && n.channel === "mobile_push" && !noDevice) {
    outboxId = viaOutbox
      ? (await outboxPushIds(
        kv,
        n.instanceId,
        pushEvent(action.actionType, n.kind),
        Date.parse(n.claimedAt ?? n.createdAt) - 1000,
        Date.parse(n.sentAt ?? n.updatedAt) + 1000,
      ))[0] ?? null
      : null;
  }
  const devices = owner?.pushTokens.length ?? 0;
  return {
    id: n.id,
    kind: n.kind,
    reminderLeadHours: n.reminderLeadHours ?? null,
    channel: n.channel,
    status: n.status,
    noDevice,
    turnedOff: n.turnedOff === true,
    quietHours: n.status === "pending" && n.quietUntil !== undefined,
    recipient: n.channel === "email"
      ? owner?.email ?? "no user record"
      : n.channel === "mobile_push"
      ? devices === 0
        ? "no registered device"
        : devices === 1
        ? "1 device"
        : `${devices} devices`
      : "workspace banner",
    attempts: n.attempts,
    error: n.error,
    // A held warning's due time stands for "never": it waits for a resume.
    held: n.status === "pending" && n.dueAt === HELD_DUE_AT,
    dueAt: n.status === "pending" && n.dueAt !== HELD_DUE_AT
      ? new Date(n.dueAt).toISOString()
      : null,
    retry: n.status === "pending" && n.attempts > 0,
    sentAt: n.sentAt,
    outboxId,
    earlier: n.earlierSends ?? [],
  };
}

/**
 * Per kind and channel over all the action's rows, from the counters kept
 * with them: sent, not delivered (a push that reached no device), pending
 * (claimed ones included), failed. The notice's channels are always listed;
 * follow-ups once they exist.
 */
function countNotices(
  action: ScheduledAction,
  detail: Pick<ActionDetail, "stages" | "notices" | "stageNotices">,
  now: number,
): ActionView["notices"] {
  const channels = new Map<string, ChannelCount>();
  const countOf = (kind: NotificationKind, channel: Channel) => {
    const key = `${kind}:${channel}`;
    let c = channels.get(key);
    if (!c) {
      c = { kind, channel, sent: 0, notDelivered: 0, pending: 0, failed: 0 };
      channels.set(key, c);
    }
    return c;
  };
  if (action.notify) {
    for (const ch of action.noticeChannels) countOf("notice", ch);
  }
  for (const t of detail.notices) {
    const c = countOf(t.kind, t.channel);
    c.sent += t.sent;
    c.notDelivered += t.notDelivered;
    c.pending += t.pending;
    c.failed += t.failed;
  }
  return {
    channels: [...channels.values()].sort((a, b) =>
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel)
    ),
    nextDueAt: nextDueOf(action, detail.stages, detail.stageNotices, now),
  };
}

/**
 * When the next pending row is due, from its stage's times: a warning at its
 * lead before the stage's time, a follow-up (or a row held by a claim) now.
 * A warning waiting to retry is due later than this says, so the page looks
 * in a little early rather than late.
 */
function nextDueOf(
  action: ScheduledAction,
  stages: Pick<Stage, "index" | "scheduledAt">[],
  byStage: ActionDetail["stageNotices"],
  now: number,
): string | null {
  let next = Infinity;
  const stageOf = new Map(stages.map((s) => [s.index, s]));
  for (const { stageIndex: index, notices: tallies } of byStage) {
    const stage = stageOf.get(index);
    for (const t of tallies) {
      if (t.pending === 0) continue;
      // A paused rollout holds its warnings until it is resumed.
      if (action.status === "paused" && isWarning(t.kind)) continue;
      if (!stage || !isWarning(t.kind)) {
        next = Math.min(next, now);
      } else if (t.kind === "reminder") {
        // The earliest reminder still ahead (the sweep takes an overdue one
        // within its minute); none ahead: it is due now.
        const ahead = (action.reminderLeadHours ?? [])
          .map((h) => reminderDueAt(h, stage))
          .filter((d) => d > now);
        next = Math.min(next, ahead.length ? Math.min(...ahead) : now);
      } else if (t.kind === "notice") {
        next = Math.min(next, noticeDueAt(action, stage));
      } else {
        next = Math.min(next, now);
      }
    }
  }
  return Number.isFinite(next) ? new Date(next).toISOString() : null;
}
