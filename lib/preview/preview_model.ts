/**
 * The schedule review's data (see preview.ts): plain JSON, shared with the
 * form's islands, so no imports that reach KV.
 */
import type { Issue } from "../errors.ts";
import type { BannerStatus, Channel } from "../types.ts";

/** Something worth the admin's attention that does not stop the schedule. */
export interface ScheduleWarning {
  code: "notice_at_once" | "notice_never" | "no_device" | "background_write";
  message: string;
}

export interface InstanceRef {
  id: string;
  name: string;
  owner: string;
}

export interface LeftOutGroup {
  count: number;
  items: InstanceRef[];
}

export interface PendingRef extends InstanceRef {
  actionId: string;
  /** "Restart", "Version change → 2026.11.2" */
  actionLabel: string;
  scheduledAt: string | null;
}

export interface OwnerRef {
  id: string;
  label: string;
  timeZone: string | null;
  devices: number;
}

export interface PreviewSample {
  owner: OwnerRef;
  instance: { id: string; name: string };
  /** Present when email is a chosen channel. */
  email: {
    to: string;
    subject: string;
    html: string;
    text: string;
    /** Where the review's frame loads the HTML from (see lib/preview/email_preview.ts). */
    frameUrl?: string | null;
  } | null;
  /** Present when push is a chosen channel; `devices: 0` means this owner gets none. */
  push: { title: string; body: string; devices: number } | null;
  /** Present when the banner is a chosen channel: what the workspace shows. */
  banner: { status: BannerStatus; timeZone: string | null } | null;
}

/** One wave of the plan as the review shows it: when, how many, a few of its instances. */
export interface PreviewStage {
  index: number;
  scheduledAt: string;
  size: number;
  soakMinutes: number;
  /** Minutes its apply is expected to take (see `rollout`). */
  expectedApplyMinutes: number;
  /**
   * Up to five of its instances. Illustrative beyond a hand-picked canary:
   * the write draws the waves with the new action's own id.
   */
  sample: { instanceId: string; name: string }[];
}

export interface SchedulePreview {
  /** Scheduling this exact request now would succeed. */
  ready: boolean;
  /** Why it would not, each naming the field at fault. */
  problems: Issue[];
  actionType: "scheduled_restart" | "version_change";
  targetImageTag: string | null;
  targetOpenclawVersion: string | null;
  scheduledAt: string | null;
  /** "Apply now": the notices go out as it is scheduled. */
  applyNow: boolean;
  notice: {
    channels: Channel[];
    leadHours: number;
    /** When the notices become due: the action's time less the lead. */
    at: string;
    /** The lead is longer than the time left: they go out with the next sweep. */
    atOnce: boolean;
    /** Reminders by email and push, largest lead first; those already past are left out. */
    reminders: { leadHours: number; at: string }[];
  } | null;
  /** Channels of the notice after the change, telling owners how it went. */
  doneChannels: ("email" | "mobile_push")[];
  /** Instances asked for (or named by the selector). */
  requested: number;
  affected: { instances: number; owners: number };
  leftOut: {
    destroyed: LeftOutGroup;
    pinned: LeftOutGroup;
    alreadyOnTag: LeftOutGroup;
    pending: { count: number; items: PendingRef[] };
  };
  /** The pending ones are left out (rather than making the schedule a 409). */
  skipPending: boolean;
  /** Affected owners to preview as (the first OWNER_CHOICES, by name). */
  owners: OwnerRef[];
  /** Owners whose push would reach no device. */
  ownersWithoutDevice: number;
  sample: PreviewSample | null;
  /**
   * With owners' windows: how many instances run at each time (earliest
   * first) and how many fell back to notBefore (no window in the range).
   */
  windows: {
    notBefore: string;
    deadline: string;
    times: { at: string; instances: number }[];
    fellBack: number;
  } | null;
  warnings: ScheduleWarning[];
  /** The plan, one stage per wave (one stage without waves). */
  stages: PreviewStage[];
  /** What the waves' planned times rest on, and the gate between them. */
  rollout: {
    /** A controller call is expected to take this long… */
    expectedCallMs: number;
    /** …with this many calls in flight at once. */
    concurrency: number;
    gate: { maxFailedPercent: number; maxUnhealthyPercent: number } | null;
  };
  /** Changes whenever anything this preview shows would change: the form checks it before committing. */
  fingerprint: string;
}

/** The dry run of a move (see move_preview.ts). */
export interface MovePreview {
  from: string;
  to: string;
  /** For owners not yet warned; null when the action tells nobody. */
  notice: { at: string; atOnce: boolean; leadHours: number } | null;
  /** Reminders at the new time still ahead, largest lead first. */
  reminders: { leadHours: number; at: string }[];
  /** What an owner already warned gets about the move, on the channels that warned them. */
  sample: {
    owner: string;
    instance: string;
    email: { subject: string; text: string } | null;
    push: { title: string; body: string } | null;
  } | null;
}
