/**
 * Every KV key shape the app uses, in one place. Modules build keys only
 * through these factories; routes never build keys.
 *
 * Indexes hold ids (or nothing), never copies of records.
 */
import type { Channel, InstanceStatus, NotificationKind } from "../types.ts";
import { DUE_SHARDS, shardOf } from "./shards.ts";

/**
 * A list of the admin's instance table: every instance, those running a tag,
 * those pinned to a tag they do not run (with the second, one tag's whole
 * list), or one owner's.
 */
export type ListScope =
  | { all: true }
  | { tag: string }
  | { pinned: string }
  | { owner: string };

const listScope = (s: ListScope) =>
  "tag" in s
    ? ["instances_listed", "tag", s.tag] as const
    : "pinned" in s
    ? ["instances_listed", "pinned", s.pinned] as const
    : "owner" in s
    ? ["instances_listed", "owner", s.owner] as const
    : ["instances_listed", "all"] as const;

export const keys = {
  // users
  user: (id: string) => ["users", id] as const,
  users: () => ["users"] as const,
  userByEmail: (email: string) =>
    ["users_by_email", email.toLowerCase()] as const,
  usersByEmail: () => ["users_by_email"] as const,
  /** An owner's preferences (lib/owners/settings.ts); absent: the defaults. */
  userSettings: (userId: string) => ["user_settings", userId] as const,

  // instances
  instance: (id: string) => ["instances", id] as const,
  instances: () => ["instances"] as const,
  instanceByOwner: (ownerId: string, instanceId: string) =>
    ["instances_by_owner", ownerId, instanceId] as const,
  instancesByOwner: (ownerId: string) =>
    ["instances_by_owner", ownerId] as const,
  instanceByTag: (imageTag: string, instanceId: string) =>
    ["instances_by_tag", imageTag, instanceId] as const,
  instancesByTag: (imageTag: string) => ["instances_by_tag", imageTag] as const,
  /**
   * The admin's list, in name order, of every instance, of one tag's (run
   * or pinned) or of one owner's, per status (lib/kv/instance_list.ts).
   */
  instanceListed: (
    scope: ListScope,
    status: InstanceStatus,
    order: string,
    id: string,
  ) => [...listScope(scope), status, order, id] as const,
  instancesListed: (scope: ListScope, status: InstanceStatus) =>
    [...listScope(scope), status] as const,
  instancesListedAll: () => ["instances_listed"] as const,
  /** How many instances a scope's list holds in one status (a KV `sum`). */
  instanceListCount: (scope: ListScope, status: InstanceStatus) =>
    ["instance_list_counts", ...listScope(scope).slice(1), status] as const,
  instanceListCounts: () => ["instance_list_counts"] as const,
  /** The count a list key counts in. */
  instanceListCountFromListed: (listed: Deno.KvKey) =>
    ["instance_list_counts", ...listed.slice(1, -2)] as const,
  /** Present once every instance is in the list (written, or indexed once). */
  instanceListReady: () => ["instance_list_ready"] as const,

  // catalog
  catalogEntry: (imageTag: string) => ["catalog", imageTag] as const,
  catalog: () => ["catalog"] as const,

  // auth
  session: (id: string) => ["sessions", id] as const,
  /** A user's sessions (by the cookie's hash), so deleting the user ends them all. */
  sessionByUser: (userId: string, sessionHash: string) =>
    ["sessions_by_user", userId, sessionHash] as const,
  sessionsByUser: (userId: string) => ["sessions_by_user", userId] as const,
  loginToken: (tokenHash: string) => ["login_tokens", tokenHash] as const,
  rateLimit: (scope: string, subject: string, window: number) =>
    ["rate_limits", scope, subject, window] as const,
  /** A sign-in email to send (sign_in_emails.ts); only the link's hash is ever stored. */
  signInEmail: (id: string) => ["sign_in_emails", id] as const,
  /** Sign-in email rows by the time someone should look at them next (due, or lease end). */
  signInEmailDue: (dueAtMs: number, id: string) =>
    ["sign_in_emails_due", dueAtMs, id] as const,
  signInEmailsDue: () => ["sign_in_emails_due"] as const,

  // embedded outbox (email and push when no provider is configured)
  outboxMessage: (id: string) => ["outbox", id] as const,
  outbox: () => ["outbox"] as const,
  /** The outbox email sent for a notification row (its `notification` tag). */
  outboxByNotification: (notificationId: string, messageId: string) =>
    ["outbox_by_notification", notificationId, messageId] as const,
  outboxOfNotification: (notificationId: string) =>
    ["outbox_by_notification", notificationId] as const,
  /** Outbox push messages about an instance, by the time they were stored. */
  outboxPushByInstance: (
    instanceId: string,
    createdAtMs: number,
    event: string,
    messageId: string,
  ) =>
    [
      "outbox_push_by_instance",
      instanceId,
      createdAtMs,
      event,
      messageId,
    ] as const,
  outboxPushOfInstance: (instanceId: string) =>
    ["outbox_push_by_instance", instanceId] as const,
  /** Remembers an idempotency key's message ids for 24 hours, like Resend. */
  outboxIdempotency: (key: string) => ["outbox_idempotency", key] as const,

  /** A schedule review's email, by its content hash, for the review's sandboxed frame. */
  emailPreview: (hash: string) => ["email_previews", hash] as const,

  // scheduled actions (ids are UUIDv7, so key order is creation order)
  action: (id: string) => ["actions", id] as const,
  actions: () => ["actions"] as const,
  actionCounter: (
    actionId: string,
    name: "total" | "applied" | "skipped" | "failed" | "cancelled",
  ) => ["action_counters", actionId, name] as const,
  actionCounters: (actionId: string) => ["action_counters", actionId] as const,
  /** A stage's own counters (a wave's size and outcomes), beside the action's. */
  stageCounter: (
    actionId: string,
    index: number,
    name:
      | "total"
      | "applied"
      | "skipped"
      | "failed"
      | "cancelled"
      /** Targets an owner's postpone took to another stage. */
      | "moved_out",
  ) => ["stage_counters", actionId, index, name] as const,
  stageCounters: (actionId: string) => ["stage_counters", actionId] as const,
  /**
   * A wave applied and soaking: the time its gate next reads the wave's
   * health (during the soak, and at its end for the verdict).
   */
  stageGateDue: (atMs: number, actionId: string, index: number) =>
    ["stages_gate_due", atMs, actionId, index] as const,
  stagesGateDue: () => ["stages_gate_due"] as const,
  /**
   * An owner's postpone made while a warning of theirs was being sent: once
   * it is marked, the apply tick tells them the new time.
   */
  targetPostponing: (targetId: string) =>
    ["targets_postponing", targetId] as const,
  targetsPostponing: () => ["targets_postponing"] as const,
  /** A pause whose later waves' warnings are not all held yet; the apply tick finishes it. */
  actionPausing: (actionId: string) => ["actions_pausing", actionId] as const,
  actionsPausing: () => ["actions_pausing"] as const,
  stage: (actionId: string, index: number) =>
    ["stages", actionId, index] as const,
  stages: (actionId: string) => ["stages", actionId] as const,
  /** Pending stages ordered by the time they are due. */
  stageDue: (scheduledAtMs: number, actionId: string, index: number) =>
    ["stages_due", scheduledAtMs, actionId, index] as const,
  stagesDue: () => ["stages_due"] as const,
  target: (id: string) => ["targets", id] as const,
  targets: () => ["targets"] as const,
  targetByAction: (actionId: string, targetId: string) =>
    ["targets_by_action", actionId, targetId] as const,
  targetsByAction: (actionId: string) =>
    ["targets_by_action", actionId] as const,
  /** An action's targets by outcome, so a filter reads only the targets it shows. */
  targetByOutcome: (actionId: string, outcome: string, targetId: string) =>
    ["targets_by_outcome", actionId, outcome, targetId] as const,
  targetsByOutcome: (actionId: string, outcome?: string) =>
    outcome === undefined
      ? ["targets_by_outcome", actionId] as const
      : ["targets_by_outcome", actionId, outcome] as const,
  /**
   * Present once every target of the action has its outcome key: written
   * with each new target, or by the backfill of an action older than the index.
   */
  targetOutcomesIndexed: (actionId: string) =>
    ["targets_by_outcome_ready", actionId] as const,
  /** An instance's one pending target: the lock that makes a second schedule a conflict. */
  instancePendingTarget: (instanceId: string) =>
    ["instance_pending_target", instanceId] as const,
  instancePendingTargets: () => ["instance_pending_target"] as const,
  targetByInstance: (instanceId: string, targetId: string) =>
    ["targets_by_instance", instanceId, targetId] as const,
  targetsByInstance: (instanceId: string) =>
    ["targets_by_instance", instanceId] as const,
  /** Targets in `running`, ordered by claim time, for recovery. */
  targetRunning: (claimedAtMs: number, targetId: string) =>
    ["targets_running", claimedAtMs, targetId] as const,
  targetsRunning: () => ["targets_running"] as const,
  /**
   * A schedule write in progress (the action record is written last). Its
   * `startedAt` tells a live write from an abandoned one.
   */
  actionWrite: (actionId: string) => ["action_writes", actionId] as const,
  actionWrites: () => ["action_writes"] as const,
  /** A large action's background write (`preparing`): where it stands, under a lease. */
  actionPrepare: (actionId: string) => ["action_prepares", actionId] as const,
  actionPrepares: () => ["action_prepares"] as const,
  /** The instances a background write still has to write, in parts, owner by owner. */
  prepareChunk: (actionId: string, index: number) =>
    ["action_prepare_chunks", actionId, index] as const,
  prepareChunks: (actionId?: string) =>
    actionId
      ? ["action_prepare_chunks", actionId] as const
      : ["action_prepare_chunks"] as const,
  /** A cancel-all whose pending targets are not all skipped yet; the apply tick finishes it. */
  actionCancelling: (actionId: string) =>
    ["actions_cancelling", actionId] as const,
  actionsCancelling: () => ["actions_cancelling"] as const,
  /** A move whose pending targets' notices are not all re-timed yet; the apply tick finishes it. */
  actionRescheduling: (actionId: string) =>
    ["actions_rescheduling", actionId] as const,
  actionsRescheduling: () => ["actions_rescheduling"] as const,
  /** Who cancelled an action ("" for the whole action) or one of its targets, when and why. */
  cancellation: (actionId: string, targetId: string | null) =>
    ["cancellations", actionId, targetId ?? ""] as const,
  cancellations: (actionId: string) => ["cancellations", actionId] as const,

  // notifications
  notification: (id: string) => ["notifications", id] as const,
  notifications: () => ["notifications"] as const,
  /** One row per (target, kind, channel), and per lead time for reminders. */
  notificationByTarget: (
    targetId: string,
    kind: NotificationKind,
    channel: Channel,
    reminderLeadHours?: number,
  ) =>
    reminderLeadHours === undefined
      ? ["notifications_by_target", targetId, kind, channel] as const
      : [
        "notifications_by_target",
        targetId,
        kind,
        channel,
        reminderLeadHours,
      ] as const,
  notificationsByTarget: (targetId: string) =>
    ["notifications_by_target", targetId] as const,
  /**
   * Pending rows only, in one of `DUE_SHARDS` parts picked by the row's
   * owner (so one sweep holds all of an owner's rows and sends them one
   * message), each ordered by the time they become due
   * (notices/due_index.ts reads them). A database from before the parts may
   * still hold `["notifications_due", dueAtMs, id]`, and one from before
   * the owner picked the part keys in the part the row's id picked; the
   * sweep reads both, and drops them once their row has moved on.
   */
  notificationDue: (
    dueAtMs: number,
    row: { id: string; userId: string },
  ) =>
    [
      "notifications_due",
      shardOf(row.userId, DUE_SHARDS),
      dueAtMs,
      row.id,
    ] as const,
  notificationsDue: () => ["notifications_due"] as const,
  notificationsDueShard: (shard: number) =>
    ["notifications_due", shard] as const,
  /** Which sweep serves a part of the due index, until when. */
  dueShardLease: (shard: number) => ["due_shard_leases", shard] as const,
  /**
   * How many of an action's rows are in one state, per kind and channel: one
   * of a few shards, picked by the row's id, so no single key takes every
   * change (notices/counters.ts). Readers sum the shards.
   */
  noticeCount: (
    actionId: string,
    kind: NotificationKind,
    channel: Channel,
    state: string,
    shard: number,
  ) => ["notice_counts", actionId, kind, channel, state, shard] as const,
  noticeCounts: (actionId: string) => ["notice_counts", actionId] as const,
  /** The same per stage of the action. */
  stageNoticeCount: (
    actionId: string,
    stageIndex: number,
    kind: NotificationKind,
    channel: Channel,
    state: string,
    shard: number,
  ) =>
    [
      "stage_notice_counts",
      actionId,
      stageIndex,
      kind,
      channel,
      state,
      shard,
    ] as const,
  stageNoticeCounts: (actionId: string) =>
    ["stage_notice_counts", actionId] as const,
  /** A dispatch group of rows sent together under one idempotency key. */
  noticeGroup: (groupId: string) => ["notice_groups", groupId] as const,
  /** Held groups, ordered by the end of their lease, for recovery. */
  noticeGroupLease: (leaseUntilMs: number, groupId: string) =>
    ["notice_group_leases", leaseUntilMs, groupId] as const,
  noticeGroupLeases: () => ["notice_group_leases"] as const,
  /** The internal route's answer to one claim of one row, so a repeated call gets the same answer. */
  sideEffectResult: (notificationId: string, claimId: string) =>
    ["side_effect_results", notificationId, claimId] as const,
  /**
   * Set when an action is cancelled after its banner (webapp notice) was
   * shown, so the banner can say it was called off until the original time.
   */
  cancelledBanner: (instanceId: string) =>
    ["cancelled_banners", instanceId] as const,
  sweepLastRun: () => ["sweep_last_run"] as const,
  /** When the apply last finished, and its counts (health.ts). */
  applyLastRun: () => ["apply_last_run"] as const,

  // providers
  /** A provider's shared send budget (rate_budget.ts). */
  rateBudget: (name: string) => ["rate_budgets", name] as const,

  // push
  /** Which user a device's Expo token belongs to now (a device follows whoever signed in last). */
  pushTokenOwner: (token: string) => ["push_token_owner", token] as const,
  pushReceipt: (checkAfterMs: number, ticketId: string) =>
    ["push_receipts", checkAfterMs, ticketId] as const,
  pushReceipts: () => ["push_receipts"] as const,

  // audit (ids are UUIDv7: key order is time order)
  auditEntry: (id: string) => ["audit", id] as const,
  auditEntries: () => ["audit"] as const,
  auditBySubject: (type: string, subjectId: string, id: string) =>
    ["audit_by_subject", type, subjectId, id] as const,
  auditsBySubject: (type: string, subjectId: string) =>
    ["audit_by_subject", type, subjectId] as const,
  auditByActor: (actorId: string, id: string) =>
    ["audit_by_actor", actorId, id] as const,
  auditsByActor: (actorId: string) => ["audit_by_actor", actorId] as const,
  auditByChange: (change: string, id: string) =>
    ["audit_by_change", change, id] as const,
  auditsByChange: (change: string) => ["audit_by_change", change] as const,

  // outbound webhooks (webhooks/): endpoints, events waiting for fan-out, deliveries
  webhookEndpoint: (id: string) => ["webhook_endpoints", id] as const,
  webhookEndpoints: () => ["webhook_endpoints"] as const,
  /** An event written with the change it reports, until it is fanned out to its endpoints. */
  webhookEvent: (eventId: string) => ["webhook_events", eventId] as const,
  webhookEvents: () => ["webhook_events"] as const,
  /** One event on its way to one endpoint. */
  webhookDelivery: (id: string) => ["webhook_deliveries", id] as const,
  webhookDeliveries: () => ["webhook_deliveries"] as const,
  /** Pending deliveries by the time of their next attempt. */
  webhookDeliveryDue: (dueAtMs: number, id: string) =>
    ["webhook_deliveries_due", dueAtMs, id] as const,
  webhookDeliveriesDue: () => ["webhook_deliveries_due"] as const,
  /** Deliveries being sent, by the end of their lease, for recovery. */
  webhookDeliveryLease: (leaseUntilMs: number, id: string) =>
    ["webhook_delivery_leases", leaseUntilMs, id] as const,
  webhookDeliveryLeases: () => ["webhook_delivery_leases"] as const,
  /** An endpoint's delivery log (ids are UUIDv7: key order is time order). */
  webhookDeliveryByEndpoint: (endpointId: string, id: string) =>
    ["webhook_deliveries_by_endpoint", endpointId, id] as const,
  webhookDeliveriesByEndpoint: (endpointId: string) =>
    ["webhook_deliveries_by_endpoint", endpointId] as const,
  /**
   * Deliveries not yet final, per endpoint and action in event order: only
   * the first of an action's queue may be sent.
   */
  webhookQueued: (endpointId: string, actionId: string, eventId: string) =>
    ["webhook_queue", endpointId, actionId, eventId] as const,
  webhookQueue: (endpointId: string, actionId: string) =>
    ["webhook_queue", endpointId, actionId] as const,
  /** A chat endpoint was told of an action's first failed instance (the rest are on its page). */
  webhookChatAlert: (endpointId: string, actionId: string) =>
    ["webhook_chat_alerts", endpointId, actionId] as const,

  // emails to admins (a rollout paused), sent by the apply tick
  adminAlert: (id: string) => ["admin_alerts", id] as const,
  /** Admin alerts by the time they are due (or their sender's lease ends). */
  adminAlertDue: (dueAtMs: number, id: string) =>
    ["admin_alerts_due", dueAtMs, id] as const,
  adminAlertsDue: () => ["admin_alerts_due"] as const,

  // bookkeeping
  meta: (name: string) => ["meta", name] as const,
};
