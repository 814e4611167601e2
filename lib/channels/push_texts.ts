/** What a push notification says for each event: short, and never "null". */
import type { NoticeItem } from "./types.ts";
import type { ActionType, NotificationKind } from "../types.ts";
import { PUSH_BODY_MAX, type PushEvent } from "./push_payload.ts";
import { formatShortDateTime } from "../format.ts";
import { oneLine } from "../text.ts";
import { doneSentence } from "@/lib/action_words.ts";

export function pushEvent(
  actionType: ActionType,
  kind: NotificationKind,
): PushEvent {
  return `${
    actionType === "version_change"
      ? "scheduled_version_change"
      : "scheduled_restart"
  }_${kind}`;
}

function clip(text: string, max = PUSH_BODY_MAX): string {
  return text.length <= max ? text : text.slice(0, max - 1).trimEnd() + "…";
}

/** Titles are held to the body's length too: the name gives way, never what happened. */
const PUSH_TITLE_MAX = PUSH_BODY_MAX;
function title(name: string, rest: string): string {
  return clip(name, PUSH_TITLE_MAX - rest.length) + rest;
}

/**
 * A value worth printing: a non-blank string that is not a stringified
 * nothing, on one line whatever was stored (a push title has no line breaks).
 */
function present(v: string | null | undefined): string | null {
  const s = v == null ? undefined : oneLine(v);
  return s && s !== "null" && s !== "undefined" ? s : null;
}

export function pushTexts(item: NoticeItem): { title: string; body: string } {
  const name = present(item.instance?.name) ?? "KiloClaw";
  // "Mar 5, 15:30 CET": the owner's own zone when known, UTC otherwise.
  const when = formatShortDateTime(item.stage.scheduledAt, item.user.timeZone);
  const version = present(item.targetOpenclawVersion);
  const tag = present(item.target.targetImageTag) ??
    present(item.action.imageTag);
  const to = version ? `OpenClaw ${version}` : tag ? `image ${tag}` : null;
  const isVersion = item.action.actionType === "version_change";
  const cancelled = item.notification.kind === "cancelled";
  if (item.notification.kind === "rescheduled") {
    const from = item.notification.movedFrom
      ? ` (was ${
        formatShortDateTime(item.notification.movedFrom, item.user.timeZone)
      })`
      : "";
    return {
      title: title(name, isVersion ? ": upgrade moved" : ": restart moved"),
      body: clip(`Now ${when}${from}. Nothing happens at the old time.`),
    };
  }
  if (item.notification.kind === "on_hold") {
    return {
      title: title(name, isVersion ? ": upgrade on hold" : ": restart on hold"),
      body: clip(
        `Nothing happens ${when}. We will tell you the new time first.`,
      ),
    };
  }
  if (item.notification.kind === "done") {
    const sentence = doneSentence(
      {
        actionType: item.action.actionType,
        status: item.target.status,
        skipReason: item.target.skipReason,
      },
      name,
      to ?? "the new version",
    );
    const ok = item.target.status === "applied";
    return {
      title: title(
        name,
        ok
          ? (isVersion ? " was upgraded" : " was restarted")
          : (isVersion ? ": upgrade not done" : ": restart not done"),
      ),
      body: clip(`${sentence}.`),
    };
  }
  const reminder = item.notification.kind === "reminder";
  if (reminder) {
    const hours = item.notification.reminderLeadHours ?? 0;
    const soon = hours === 1 ? "in an hour" : `in ${hours} hours`;
    return {
      title: title(name, isVersion ? ` upgrades ${soon}` : ` restarts ${soon}`),
      body: clip(
        isVersion
          ? `Reminder: upgrading${to ? ` to ${to}` : ""} ${when}.`
          : `Reminder: restarting ${when}. Chat may be briefly unavailable.`,
      ),
    };
  }
  if (!isVersion && !cancelled) {
    return {
      title: title(name, " will restart soon"),
      body: clip(
        `Restarting ${when}. Chat may be unavailable for a few minutes.`,
      ),
    };
  }
  if (!isVersion) {
    return {
      title: title(name, ": restart cancelled"),
      body: clip(`The restart planned for ${when} is off. Nothing changes.`),
    };
  }
  if (!cancelled) {
    return {
      title: title(name, " will upgrade soon"),
      body: clip(
        to
          ? `Upgrading to ${to} ${when}. Chat may be briefly unavailable.`
          : `Upgrading ${when}. Chat may be briefly unavailable.`,
      ),
    };
  }
  return {
    title: title(name, ": upgrade cancelled"),
    body: clip(
      to
        ? `The upgrade to ${to} planned for ${when} is off.`
        : `The upgrade planned for ${when} is off. Nothing changes.`,
    ),
  };
}
