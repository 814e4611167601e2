/** What every scheduled-action email template is given, already worded. */
export interface ScheduledActionEmailProps {
  /** First name, or "there". */
  greetingName: string;
  /** Instance name, or its id when the name is unknown. */
  instanceName: string;
  whenUtc: string;
  /** The time in the user's zone, when they have one. */
  whenLocal: string | null;
  workspaceUrl: string;
  /** The admin's message, as typed (notices only). */
  adminMessage: string | null;
  /** Version changes: the image tag the instance moves to. */
  targetImageTag: string | null;
  /** Version changes: the OpenClaw version of that tag, when the catalog knows it. */
  openclawVersion: string | null;
  /** "Add to calendar" (notices, reminders, moves). */
  calendarUrl?: string | null;
  /** How many of the owner's bots this one email is about (absent: one). */
  botCount?: number;
  /** Done notices: how it went. */
  done?: import("./done.tsx").DoneOutcome;
  /** Reminders: which one this is ("Reminder 1 of 2 (24 hours before)"). */
  reminderLabel?: string | null;
  /** Rescheduled notices: the time the user was told before, in UTC and in their zone. */
  movedFromUtc?: string | null;
  movedFromLocal?: string | null;
}

/** "OpenClaw 1.2.3 (image tag 2026.01.1)", or just the tag when the version is unknown. */
export function versionLabel(p: ScheduledActionEmailProps): string {
  const tag = p.targetImageTag ?? "an unknown image tag";
  return p.openclawVersion
    ? `OpenClaw ${p.openclawVersion} (image tag ${tag})`
    : `image tag ${tag}`;
}

export function movedFromLabel(p: ScheduledActionEmailProps): string {
  const utc = p.movedFromUtc ?? "the time announced before";
  return p.movedFromLocal ? `${utc} (${p.movedFromLocal})` : utc;
}

/** "KiloClaw instance", or "3 KiloClaw bots" when one email covers several. */
export function instanceWords(p: ScheduledActionEmailProps): string {
  return (p.botCount ?? 1) > 1
    ? `${p.botCount} KiloClaw bots`
    : "KiloClaw instance";
}

export function whenLabel(p: ScheduledActionEmailProps): string {
  return p.whenLocal ? `${p.whenUtc} (${p.whenLocal})` : p.whenUtc;
}
