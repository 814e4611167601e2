/**
 * Domain types shared by server code and islands. Side-effect free: islands may
 * import this module, so it must never import anything that opens KV.
 */

export type Role = "admin" | "user";

export interface User {
  id: string;
  email: string;
  name: string | null;
  /** IANA time zone, e.g. "Europe/Berlin". */
  timeZone: string | null;
  role: Role;
  /** Expo push tokens registered by the user's devices. */
  pushTokens: string[];
  createdAt: string;
  updatedAt: string;
}

/** Days of the week, as the owner's settings and their API name them. */
export const WEEKDAYS = [
  "mon",
  "tue",
  "wed",
  "thu",
  "fri",
  "sat",
  "sun",
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When an owner prefers changes to happen, in their own zone. */
export interface MaintenanceWindow {
  days: Weekday[];
  /** 0–23, local hour in the owner's zone. */
  startHour: number;
  /** 1–8 hours. */
  lengthHours: number;
}

/** Push quiet hours, "HH:MM" in the owner's zone; `end` before `start` crosses midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

/** Channels an owner hears warnings (notices, reminders) on; the banner is always on. */
export interface WarningChannels {
  email: boolean;
  mobile_push: boolean;
}

/** An owner's preferences (`GET/PUT /api/me/settings`); the zone lives on the user record. */
export interface OwnerSettings {
  timeZone: string | null;
  /** null: any time. */
  maintenanceWindow: MaintenanceWindow | null;
  channels: WarningChannels;
  quietHours: QuietHours | null;
}

export type InstanceStatus = "running" | "destroyed";

export interface Instance {
  id: string;
  name: string;
  ownerId: string;
  imageTag: string;
  pinnedImageTag: string | null;
  status: InstanceStatus;
  lastRestartAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CatalogEntry {
  imageTag: string;
  openclawVersion: string;
  available: boolean;
  updatedAt: string;
}

export type ActionType = "scheduled_restart" | "version_change";
export type ActionStatus =
  | "scheduled"
  | "running"
  | "completed"
  | "failed"
  | "cancelled"
  /** A rollout's health gate stopped it: nothing new starts until an admin resumes it. */
  | "paused"
  /**
   * A large action whose targets are still being written in the background:
   * nothing is sent and nothing applied until it turns `scheduled`.
   */
  | "preparing";
export type Channel = "email" | "webapp" | "mobile_push";
export const CHANNELS: readonly Channel[] = ["email", "webapp", "mobile_push"];

export interface NotifySettings {
  notify: boolean;
  /** 0–168 hours before the stage's scheduledAt. */
  noticeLeadHours: number;
  noticeSubject: string | null;
  noticeBody: string | null;
  noticeChannels: Channel[];
  /** Up to two reminders after the notice, hours before the time, largest first (absent on older actions). */
  reminderLeadHours?: number[];
  /** Channels that tell owners how it went after the apply (absent or empty: none). */
  doneChannels?: Channel[];
}

/**
 * One wave of a rollout: a share of the action's instances (`percent`,
 * rounded up, at least 1), a number of them (`count`) or, for the first
 * wave only, a hand-picked canary (`instanceIds`); then a soak in whole
 * minutes before the gate judges it. The last wave takes whatever is left.
 */
export interface WaveSpec {
  percent?: number;
  count?: number;
  instanceIds?: string[];
  soakMinutes: number;
}

/** When a wave's soak stops the rollout: more than this share failed or unhealthy. */
export interface GateSpec {
  maxFailedPercent: number;
  maxUnhealthyPercent: number;
}

export interface ScheduledAction extends NotifySettings {
  id: string;
  actionType: ActionType;
  /** Target image tag for a version change, null for a restart. */
  imageTag: string | null;
  overridePins: boolean;
  reason: string | null;
  status: ActionStatus;
  /** The rollout's waves as scheduled (absent: one wave, every instance at once). */
  waves?: WaveSpec[];
  /** The health gate judged after each wave's soak (absent: no gate). */
  gate?: GateSpec | null;
  /** Set when an admin aborted a paused or running rollout: the waves applied before. */
  abortedAfterWave?: number | null;
  /**
   * Owners may postpone their instance's change up to `times` times, to no
   * later than `until` (absent or null: the change is urgent).
   */
  ownerMayPostpone?: { until: string; times: number } | null;
  /** Each target in its owner's maintenance window between these times (absent: one time for all). */
  timing?: { mode: "owner_window"; notBefore: string; deadline: string };
  /** A rollback action: the action whose applied waves it moves back. */
  rollbackOf?: string | null;
  /** Raised by each move, so calendars replace the event (absent: never moved). */
  calendarSequence?: number;
  /**
   * A large action written in the background: how many instances it was
   * scheduled for; once written, `leftOut` says how many another action took
   * meanwhile or that were destroyed meanwhile (absent: written in the request).
   */
  preparing?: { total: number; leftOut?: number; writtenAt?: string };
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  cancelledAt: string | null;
}

/**
 * The action can still run: scheduled, or running now. A paused rollout is
 * not open: nothing starts and no warning goes out until it is resumed.
 */
export function isActionOpen(a: Pick<ScheduledAction, "status">): boolean {
  return a.status === "scheduled" || a.status === "running";
}

/** The stage can still run: pending, or running now. */
export function isStageLive(s: Pick<Stage, "status">): boolean {
  return s.status === "pending" || s.status === "running";
}

/** Not begun yet: the action is scheduled and its stage pending, so it can still be moved. */
export function isMovable(
  a: Pick<ScheduledAction, "status">,
  s: Pick<Stage, "status">,
): boolean {
  return a.status === "scheduled" && s.status === "pending";
}

/** Pinned to another tag: a version change that respects pins leaves the instance where it is. */
export function isPinnedAway(
  instance: Pick<Instance, "pinnedImageTag">,
  imageTag: string,
): boolean {
  return instance.pinnedImageTag !== null &&
    instance.pinnedImageTag !== imageTag;
}

/** Counters live in their own KV `sum` keys, never in the action record. */
export interface ActionCounters {
  total: number;
  applied: number;
  /** Every target that ended skipped, cancelled ones included. */
  skipped: number;
  failed: number;
}

/** An action's progress as admins read it: cancelled targets are not "skipped". */
export interface ProgressCounts extends ActionCounters {
  /** Skipped when applied (pinned, destroyed…), cancellations left out. */
  skipped: number;
  /** Called off by an admin before they were changed. */
  cancelled: number;
}

export type StageStatus =
  | "pending"
  | "running"
  | "completed"
  | "cancelled"
  | "failed";

export type GateVerdict = "passed" | "failed";

/** The health gate's reading of a wave, stored on its stage. */
export interface StageGate {
  verdict: GateVerdict | null;
  /** When the verdict (or the last reading before it) was taken. */
  at: string | null;
  failedPercent: number;
  unhealthyPercent: number;
  healthy: number;
  unhealthy: number;
  unknown: number;
  /** Changed instances whose health was read (applied targets of the wave). */
  checked: number;
  /** When the gate reads the wave's health next (null: no reading due). */
  nextAt: string | null;
  /** An admin resumed the rollout over this failed verdict: the next wave may start. */
  resumedAt?: string | null;
}

export interface Stage {
  actionId: string;
  index: number;
  scheduledAt: string;
  status: StageStatus;
  startedAt: string | null;
  finishedAt: string | null;
  /** The wave's soak after its changes land, in minutes (absent: none). */
  soakMinutes?: number;
  /** When the soak ends and the gate gives its verdict (set when the wave's apply finishes). */
  soakUntil?: string | null;
  /** The gate's reading (absent: no gate for this stage). */
  gate?: StageGate | null;
  /**
   * The stage whose wave must be done (soaked, gate passed) before this one
   * starts; null: none. Absent: the stage before it (a wave follows a wave).
   */
  waitsFor?: number | null;
  /** Why the stage exists beside the planned waves: an owner postponed to its time. */
  origin?: "postponed";
}

export type TargetStatus =
  | "pending"
  | "running"
  | "applied"
  | "skipped"
  | "failed";

export type SkipReason =
  | "cancelled"
  | "pinned"
  | "pin_changed_in_flight"
  | "destroyed";

export interface Target {
  id: string;
  actionId: string;
  stageIndex: number;
  instanceId: string;
  userId: string;
  sourceImageTag: string;
  /** The image tag after the action: the new tag for a version change, the source tag for a restart. */
  targetImageTag: string;
  /**
   * The instance's pin when the action was scheduled. A version change that
   * overrides pins removes the pin only if it is still this one.
   */
  sourcePinnedImageTag?: string | null;
  status: TargetStatus;
  skipReason: SkipReason | null;
  error: string | null;
  claimedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  /** Apply attempts so far (a transient controller failure or a recovery leaves the target pending for another try). */
  attempts?: number;
  /** Times the owner postponed this change. */
  postpones?: number;
}

export type NotificationKind =
  | "notice"
  | "reminder"
  | "cancelled"
  | "rescheduled"
  | "done"
  /** A paused rollout: the owner was warned of a time that will not happen; a new one follows. */
  | "on_hold";

/**
 * Kinds that announce a change still to come: sent only while their target
 * is pending and its time has not come, checked against their parents when
 * claimed, waited for by the apply. A cancellation is not one.
 */
export function isWarning(kind: NotificationKind): boolean {
  return kind === "notice" || kind === "reminder" || kind === "rescheduled";
}
export type NotificationStatus = "pending" | "sending" | "sent" | "failed";

export interface Notification {
  id: string;
  actionId: string;
  stageIndex: number;
  targetId: string;
  instanceId: string;
  userId: string;
  kind: NotificationKind;
  channel: Channel;
  status: NotificationStatus;
  /** When the row becomes due (epoch ms); also the due-index key while pending. */
  dueAt: number;
  attempts: number;
  /**
   * The dispatch group holding the row, set when it is claimed. An email row
   * keeps it until it is final: the group's id is the provider's idempotency
   * key, so the row only ever reaches the provider under that one key.
   */
  groupId: string | null;
  /** The claim that holds the row while it is `sending`. */
  claimId: string | null;
  claimedAt: string | null;
  sentAt: string | null;
  error: string | null;
  /** A warning not sent because its owner turned that channel off. */
  turnedOff?: boolean;
  /** A push warning held back until the owner's quiet hours end (when it was first due). */
  quietUntil?: string;
  /** What the channel said of a sent row (e.g. "no registered devices: 0 deliveries"). */
  detail?: string | null;
  /**
   * An earlier attempt may have reached the user (it timed out, crashed or
   * met a server error). Cancelling such a row queues its cancellation.
   */
  deliveryUncertain?: boolean;
  /** Reminder rows: how many hours before the action time this reminder is due. */
  reminderLeadHours?: number;
  /** Rescheduled rows: the time the user was last told, and the time it moved to. */
  movedFrom?: string;
  movedTo?: string;
  /**
   * Rescheduled rows: the earlier moves this row told the user of (oldest
   * first, at most `MAX_EARLIER_SENDS`), kept when a later move sends it again.
   */
  earlierSends?: EarlierSend[];
  createdAt: string;
  updatedAt: string;
}

/** One earlier sending of a rescheduled row: the move it told of, and when. */
export interface EarlierSend {
  movedFrom: string;
  movedTo: string;
  /** When it was sent; null when the send may have arrived but its answer was lost. */
  sentAt: string | null;
}

/** Enough to show an action's history of moves; the audit keeps every one. */
export const MAX_EARLIER_SENDS = 10;

/** What a channel did with one row (stored on its group the moment the provider answers). */
export type DispatchOutcome =
  | { status: "sent"; detail?: string }
  | {
    status: "retry";
    error: string;
    retryAfterMs?: number;
    /** The attempt may have reached the user (a timeout, a dropped connection, a 5xx). */
    uncertain?: boolean;
  }
  | { status: "failed"; error: string };

/**
 * A dispatch group: rows of one channel sent in one provider call, under one
 * idempotency key (its id). Members are fixed when it is first sealed; a
 * later send carries every member still open and never a new one.
 */
export interface NoticeGroup {
  id: string;
  channel: Channel;
  /**
   * forming: a claim is taking its members (nothing sent under this claim);
   * sealed: the holder may send; waiting: no holder, open members wait for a
   * retry under the same key.
   */
  state: "forming" | "sealed" | "waiting";
  members: string[];
  /** The claim holding the group (forming, sealed). */
  claimId: string | null;
  /** When the holder's lease ends (epoch ms); also the lease-index key. */
  leaseUntil: number | null;
  /** How many times the group was sealed for sending; a re-send has sends > 1. */
  sends: number;
  /** Each member's outcome, written the moment the provider answered, before any row is marked. */
  outcomes: Record<string, DispatchOutcome> | null;
  createdAt: string;
  updatedAt: string;
}

/** What the workspace banner reads (`GET /api/instances/:id/status`). */
export interface BannerAction {
  scheduledActionId: string;
  actionType: ActionType;
  scheduledAt: string;
  targetImageTag: string | null;
  targetOpenclawVersion: string | null;
  /** The rollout paused before this wave: the time will not happen; a new one follows. */
  onHold?: boolean;
}

/** A banner that was showing for an action since called off, until its original time. */
export interface CancelledBannerAction extends BannerAction {
  cancelledAt: string;
}

/** What the workspace shows about an instance's next action (the status endpoint's banner part). */
export interface BannerStatus {
  scheduledAction: BannerAction | null;
  cancelledAction?: CancelledBannerAction;
}

export interface SweepResult {
  processed: number;
  sent: number;
  failed: number;
  recovered: number;
  voidedStale: number;
}

export interface SweepRun extends SweepResult {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** Where an admin change came from. */
/** How the change came: an admin's session, the API token, or the app itself (a rollout's gate). */
export type AuditVia = "session" | "api_token" | "system" | "owner";

/** Every kind of admin change the audit records. */
export const AUDIT_CHANGES = [
  "action.schedule",
  "action.cancel",
  "target.cancel",
  "action.reschedule",
  "action.pause",
  "action.resume",
  "action.abort",
  "action.rollback",
  "target.postpone",
  "action.recount",
  "catalog.put",
  "user.put",
  "user.delete",
  "user.settings",
  "instance.put",
  "webhook.create",
  "webhook.delete",
  "webhook.test",
] as const;
export type AuditChange = (typeof AUDIT_CHANGES)[number];

export const AUDIT_SUBJECT_TYPES = [
  "action",
  "instance",
  "user",
  "catalog",
  "webhook",
] as const;
export type AuditSubjectType = (typeof AUDIT_SUBJECT_TYPES)[number];

export interface AuditSubject {
  type: AuditSubjectType;
  id: string;
}

/** One admin change: who, when, from where, what changed, why. */
export interface AuditEntry {
  id: string;
  at: string;
  /** The admin's user id (or `api-token`) and their address at the time. */
  actor: { id: string; email: string | null };
  via: AuditVia;
  change: AuditChange;
  subject: AuditSubject;
  /** Other records the change touched (a cancelled target's instance), also listed under them. */
  related: AuditSubject[];
  /** What changed: fields as `[before, after]`, or the change's own figures. */
  details: Record<string, unknown>;
  reason?: string;
}
