/**
 * How an action and its outcome read, in one place for pages, islands, push
 * texts and emails: "Version change to OpenClaw 1.9.0", "Your bot Maya's bot
 * was restarted". No imports with side effects, so islands may use it.
 */
import { channelList } from "./channel_names.ts";
import type {
  ActionType,
  ScheduledAction,
  SkipReason,
  TargetStatus,
} from "./types.ts";

/**
 * "Restart" or "Version change to OpenClaw 1.9.0", as admins read an action:
 * by the version people know, the image tag only when the catalog has no
 * version for it.
 */
export function actionLabel(
  a: Pick<ScheduledAction, "actionType" | "imageTag">,
  openclawVersion?: string | null,
): string {
  if (a.actionType !== "version_change") return "Restart";
  return openclawVersion
    ? `Version change to OpenClaw ${openclawVersion}`
    : `Version change to ${a.imageTag}`;
}

export interface DoneOutcome {
  actionType: ActionType;
  status: TargetStatus;
  skipReason: SkipReason | null;
}

/** What happened, in one sentence without the time: "Your bot Maya's bot was restarted". */
export function doneSentence(
  o: DoneOutcome,
  name: string,
  version: string,
): string {
  const isVersion = o.actionType === "version_change";
  if (o.status === "applied") {
    return isVersion
      ? `Your bot ${name} was upgraded to ${version}`
      : `Your bot ${name} was restarted`;
  }
  const verb = isVersion ? "upgraded" : "restarted";
  if (o.status === "skipped") {
    if (o.skipReason === "destroyed") {
      return `Your bot ${name} was not ${verb}: it no longer exists`;
    }
    if (o.skipReason === "pinned") {
      return `Your bot ${name} was not ${verb}: it is pinned to its current version`;
    }
    if (o.skipReason === "pin_changed_in_flight") {
      return `Your bot ${name} was not ${verb}: its pinned version changed just before`;
    }
    return `Your bot ${name} was not ${verb}`;
  }
  return `Your bot ${name} could not be ${verb}; it runs as before and we are looking into it`;
}

/** "5 h ahead by email and push; reminders 24 h and 1 h ahead; done notice by email". */
export function noticeSummary(
  a: Pick<
    ScheduledAction,
    "noticeLeadHours" | "noticeChannels" | "reminderLeadHours" | "doneChannels"
  >,
): string {
  return `${a.noticeLeadHours} h ahead by ${channelList(a.noticeChannels)}${
    a.reminderLeadHours?.length
      ? `; reminders ${a.reminderLeadHours.join(" h and ")} h ahead`
      : ""
  }${
    a.doneChannels?.length
      ? `; done notice by ${channelList(a.doneChannels)}`
      : ""
  }`;
}

const SKIP_REASONS: Record<SkipReason, string> = {
  cancelled: "cancelled",
  pinned: "pinned to another tag",
  pin_changed_in_flight: "its pin changed while it was applied",
  destroyed: "destroyed",
};

/** Why a target was skipped, as the action page says it: "pinned to another tag". */
export function skipReasonLabel(reason: SkipReason): string {
  return SKIP_REASONS[reason] ?? reason;
}

/** "Writing targets: 41,200 of 100,000", while a large action is written in the background. */
export function writingLine(p: { written: number; total: number }): string {
  return `Writing targets: ${p.written.toLocaleString("en-US")} of ${
    p.total.toLocaleString("en-US")
  }`;
}

/** Why a written action holds fewer instances than it was scheduled for. */
export function leftOutLine(leftOut: number): string {
  return `${leftOut.toLocaleString("en-US")} instance${
    leftOut === 1 ? " was" : "s were"
  } left out: another action took ${leftOut === 1 ? "it" : "them"}, or ${
    leftOut === 1 ? "it was" : "they were"
  } destroyed, while this action was written.`;
}
