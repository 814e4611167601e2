/**
 * The action page's data (see action_view.ts): plain JSON, shared with the
 * page's island, so no imports that reach KV.
 */
import type {
  Channel,
  EarlierSend,
  NotificationKind,
  NotificationStatus,
  ProgressCounts,
  ScheduledAction,
  StageStatus,
  SweepRun,
  Target,
  TargetOutcome,
} from "../types.ts";

/**
 * One wave (stage) of an action as the API and the action page show it: its
 * time and status, its own counters, its health as the gate last read it,
 * its soak and the gate's verdict.
 */
export interface StageView {
  actionId: string;
  index: number;
  scheduledAt: string;
  status: StageStatus;
  startedAt: string | null;
  finishedAt: string | null;
  /** Its targets, whatever became of them. */
  size: number;
  applied: number;
  /** Skipped when applied (pinned, destroyed…), cancellations left out. */
  skipped: number;
  failed: number;
  cancelled: number;
  /** Changed instances by their health at the gate's last reading (0 before it). */
  healthy: number;
  unhealthy: number;
  unknown: number;
  soakMinutes: number;
  /** When its soak ends (set once its changes landed). */
  soakUntil: string | null;
  /** The gate's reading; null when no gate judges this wave (the last, or no gate). */
  gate: {
    verdict: "passed" | "failed" | null;
    at: string | null;
    failedPercent: number;
    unhealthyPercent: number;
    /** An admin resumed the rollout over a failed verdict, at this time. */
    resumedAt: string | null;
  } | null;
}

/** Who cancelled an action or one of its instances, when and why. */
export interface Cancellation {
  actionId: string;
  /** null: the whole action. */
  targetId: string | null;
  byUserId: string;
  /** "Ada Admin <ada@…>", kept so the page reads well after the user is gone. */
  byLabel: string;
  at: string;
  reason: string | null;
}

/**
 * A large action's background write: while `preparing`, how far it got
 * (`written` of `total`); once written, what it came to (`writtenAt`, null
 * when it was cancelled before it was written whole). `leftOut`: instances
 * another action took, or that were destroyed, while it was written.
 */
export type PreparingView =
  | { written: number; total: number; leftOut: number }
  | { total: number; leftOut: number; writtenAt: string | null };

export interface RollbackLink {
  id: string;
  label: string;
  status: ScheduledAction["status"];
}

export interface NoticeView {
  id: string;
  kind: NotificationKind;
  /** Which reminder a `reminder` row is: its hours before the time. */
  reminderLeadHours: number | null;
  channel: Channel;
  status: NotificationStatus;
  /** A push that was "sent" to nobody: the owner had no device. */
  noDevice: boolean;
  /** A warning not sent because the owner turned this channel off (not an error). */
  turnedOff: boolean;
  /** A push warning waiting for the end of the owner's quiet hours. */
  quietHours: boolean;
  /** The address, the devices, or the banner. */
  recipient: string;
  attempts: number;
  error: string | null;
  /** A warning a paused rollout holds: it has no due time until the rollout resumes. */
  held: boolean;
  /** When it becomes due (not tried yet) or is tried again (after a failed attempt). */
  dueAt: string | null;
  retry: boolean;
  sentAt: string | null;
  /** The message in the embedded outbox, when it went there. */
  outboxId: string | null;
  /** A rescheduled notice: the earlier moves it told the owner of, oldest first. */
  earlier: EarlierSend[];
}

export interface TargetView {
  id: string;
  instanceId: string;
  instanceName: string | null;
  owner: string;
  from: string;
  to: string;
  status: Target["status"];
  skipReason: Target["skipReason"];
  error: string | null;
  finishedAt: string | null;
  cancellation: Cancellation | null;
  notices: NoticeView[];
}

/** One kind of notice on one channel, e.g. the cancellations by email. */
export interface ChannelCount {
  kind: NotificationKind;
  channel: Channel;
  /** Delivered to the provider (a push: to at least one device). */
  sent: number;
  /** A push that reached no device (the owner had none), or a warning the owner turned off. */
  notDelivered: number;
  pending: number;
  failed: number;
}

export interface ActionView {
  action: ScheduledAction & { label: string; creator: string };
  scheduledAt: string | null;
  stageStatus: StageStatus | null;
  /** Every wave, first first (one for an action without waves). */
  stages: StageView[];
  /** The action this one rolls back, or the rollback of this one, when there is one. */
  rollback: { of: RollbackLink | null; by: RollbackLink | null };
  /** Cancelled targets are counted on their own, not as skipped or done. */
  counters: ProgressCounts;
  notices: {
    /** Per kind and channel over every row of the action: the notice's channels always, follow-ups once any exist. */
    channels: ChannelCount[];
    /** When the next pending row (notice or follow-up) is due, if any. */
    nextDueAt: string | null;
  };
  cancellation: Cancellation | null;
  /** How many targets have each outcome, exact. */
  outcomes: Record<TargetOutcome, number>;
  /** The outcome the targets shown have, or null for all of them. */
  outcome: TargetOutcome | null;
  targets: TargetView[];
  /** Next page of targets, or null. */
  cursor: string | null;
  lastRun: SweepRun | null;
  /** Something is still to happen: the page keeps refreshing. */
  live: boolean;
  /** Only for an action written in the background (see PreparingView). */
  preparing?: PreparingView;
}
