import type { DoneOutcome } from "@/lib/action_words.ts";

/** What every scheduled-action email template is given, already worded. */
export interface ScheduledActionEmailProps {
  /** First name, or "there". */
  greetingName: string;
  /** Instance name, or its id when the name is unknown. */
  instanceName: string;
  /** The time in the owner's zone, or in UTC when they have none: "Thu, Mar 5, 2026, 15:30 CET". */
  when: string;
  /** The same moment in UTC when `when` is in another zone: "14:30 UTC". */
  whenUtc: string | null;
  workspaceUrl: string;
  /** The admin's message, as typed (notices only). */
  adminMessage: string | null;
  /** Version changes: the image tag the instance moves to. */
  targetImageTag: string | null;
  /** Version changes: the OpenClaw version of that tag, when the catalog knows it. */
  openclawVersion: string | null;
  /** Version changes: what the instance runs now, "OpenClaw 1.8.2" or "image tag 2026.02.1". */
  fromVersion: string | null;
  /** The owner's settings page, linked from every email's footer. */
  settingsUrl?: string;
  /** Notices and reminders: the one-click link that turns warning emails off. */
  unsubscribeUrl?: string | null;
  /** Notices and reminders of a change owners may postpone: the signed "Change the time" page. */
  postponeUrl?: string | null;
  /** "Add to calendar" (notices, reminders, moves). */
  calendarUrl?: string | null;
  /** How many of the owner's bots this one email is about (absent: one). */
  botCount?: number;
  /** Done notices: how it went. */
  done?: DoneOutcome;
  /** Reminders: which one this is ("Reminder 1 of 2 (24 hours before)"). */
  reminderLabel?: string | null;
  /** Rescheduled notices: the time the user was told before, in their zone (like `when`). */
  movedFrom?: string | null;
  /** The same moment in UTC when `movedFrom` is in another zone (like `whenUtc`). */
  movedFromUtc?: string | null;
}

/** "OpenClaw 1.9.0", or the image tag when the catalog does not know its version. */
export function versionLabel(p: ScheduledActionEmailProps): string {
  return p.openclawVersion
    ? `OpenClaw ${p.openclawVersion}`
    : `image tag ${p.targetImageTag ?? "unknown"}`;
}

/** The time announced before a move, worded like `whenLabel`. */
export function movedFromLabel(p: ScheduledActionEmailProps): string {
  if (!p.movedFrom) return "the time announced before";
  return p.movedFromUtc ? `${p.movedFrom} (${p.movedFromUtc})` : p.movedFrom;
}

/** "KiloClaw bot", or "3 KiloClaw bots" when one email covers several. */
export function instanceWords(p: ScheduledActionEmailProps): string {
  return (p.botCount ?? 1) > 1 ? `${p.botCount} KiloClaw bots` : "KiloClaw bot";
}

/** "it" for one bot, "they" for several, with the verb agreeing: `itOrThey(p, "stays", "stay")`. */
export function itOrThey(
  p: ScheduledActionEmailProps,
  one: string,
  several: string,
): string {
  return (p.botCount ?? 1) > 1 ? `They ${several}` : `It ${one}`;
}

/** "its" for one bot, "their" for several. */
export function itsOrTheir(p: ScheduledActionEmailProps): string {
  return (p.botCount ?? 1) > 1 ? "their" : "its";
}

/** "from OpenClaw 1.8.2 to OpenClaw 1.9.0", or "to OpenClaw 1.9.0" when the current one is unknown. */
export function changeLabel(p: ScheduledActionEmailProps): string {
  return p.fromVersion
    ? `from ${p.fromVersion} to ${versionLabel(p)}`
    : `to ${versionLabel(p)}`;
}

/** "Thu, Mar 5, 2026, 15:30 CET (14:30 UTC)" */
export function whenLabel(p: ScheduledActionEmailProps): string {
  return p.whenUtc ? `${p.when} (${p.whenUtc})` : p.when;
}

/** A notice as plain text, in the order of `NoticeEmail`: reminder, greeting, `sentence`, the admin's message, `extra` lines, the workspace link. */
export function noticeText(
  p: ScheduledActionEmailProps,
  sentence: string,
  extra: string[] = [],
): string {
  return [
    ...(p.reminderLabel ? [p.reminderLabel, ""] : []),
    `Hi ${p.greetingName},`,
    "",
    sentence,
    ...(p.adminMessage?.trim() ? ["", p.adminMessage.trim()] : []),
    ...extra,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
