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
} from "../types.ts";

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
  /** Cancelled targets are counted on their own, not as skipped or done. */
  counters: ProgressCounts;
  notices: {
    /** Per kind and channel over every row of the action: the notice's channels always, follow-ups once any exist. */
    channels: ChannelCount[];
    /** When the next pending row (notice or follow-up) is due, if any. */
    nextDueAt: string | null;
  };
  cancellation: Cancellation | null;
  targets: TargetView[];
  /** Next page of targets, or null. */
  cursor: string | null;
  lastRun: SweepRun | null;
  /** Something is still to happen: the page keeps refreshing. */
  live: boolean;
}
