/** Turns a notification row into the email its user gets: subject, HTML and text. */
import { renderToString } from "preact-render-to-string";
import { h } from "preact";
import type { EmailMessage, NoticeItem } from "./types.ts";
import {
  formatDateTime,
  formatTime,
  greetingName,
  isUtcZone,
  zoneOrUtc,
} from "../format.ts";
import type { ScheduledActionEmailProps } from "@/lib/channels/email_templates/props.ts";
import {
  RESTART_NOTICE_SUBJECT,
  RestartNoticeEmail,
  restartNoticeText,
} from "@/lib/channels/email_templates/restart_notice.tsx";
import {
  VERSION_CHANGE_NOTICE_SUBJECT,
  VersionChangeNoticeEmail,
  versionChangeNoticeText,
} from "@/lib/channels/email_templates/version_change_notice.tsx";
import {
  RESTART_CANCELLED_SUBJECT,
  RestartCancelledEmail,
  restartCancelledText,
} from "@/lib/channels/email_templates/restart_cancelled.tsx";
import {
  VERSION_CHANGE_CANCELLED_SUBJECT,
  VersionChangeCancelledEmail,
  versionChangeCancelledText,
} from "@/lib/channels/email_templates/version_change_cancelled.tsx";
import {
  RESTART_RESCHEDULED_SUBJECT,
  RestartRescheduledEmail,
  restartRescheduledText,
  VERSION_CHANGE_RESCHEDULED_SUBJECT,
  VersionChangeRescheduledEmail,
  versionChangeRescheduledText,
} from "@/lib/channels/email_templates/rescheduled.tsx";
import {
  DoneEmail,
  doneSubject,
  doneText,
} from "@/lib/channels/email_templates/done.tsx";
import {
  OnHoldEmail,
  onHoldText,
  RESTART_ON_HOLD_SUBJECT,
  VERSION_CHANGE_ON_HOLD_SUBJECT,
} from "@/lib/channels/email_templates/on_hold.tsx";
import type { ActionType, NotificationKind } from "../types.ts";
import { calendarUrl } from "../calendar.ts";
import { unsubscribeUrl } from "../owners/unsubscribe.ts";
import { postponeUrl } from "../owners/postpone_link.ts";
import { joinNames } from "./bundle.ts";
import { oneLine, plainLines } from "../text.ts";
import type { FunctionComponent } from "preact";

interface Template {
  subject: string;
  html: FunctionComponent<ScheduledActionEmailProps>;
  text: (p: ScheduledActionEmailProps) => string;
}

const TEMPLATES: Record<ActionType, Record<NotificationKind, Template>> = {
  scheduled_restart: {
    notice: {
      subject: RESTART_NOTICE_SUBJECT,
      html: RestartNoticeEmail,
      text: restartNoticeText,
    },
    cancelled: {
      subject: RESTART_CANCELLED_SUBJECT,
      html: RestartCancelledEmail,
      text: restartCancelledText,
    },
    done: { subject: "", html: DoneEmail, text: doneText },
    reminder: {
      subject: RESTART_NOTICE_SUBJECT,
      html: RestartNoticeEmail,
      text: restartNoticeText,
    },
    rescheduled: {
      subject: RESTART_RESCHEDULED_SUBJECT,
      html: RestartRescheduledEmail,
      text: restartRescheduledText,
    },
    on_hold: {
      subject: RESTART_ON_HOLD_SUBJECT,
      html: OnHoldEmail,
      text: onHoldText,
    },
  },
  version_change: {
    notice: {
      subject: VERSION_CHANGE_NOTICE_SUBJECT,
      html: VersionChangeNoticeEmail,
      text: versionChangeNoticeText,
    },
    cancelled: {
      subject: VERSION_CHANGE_CANCELLED_SUBJECT,
      html: VersionChangeCancelledEmail,
      text: versionChangeCancelledText,
    },
    done: { subject: "", html: DoneEmail, text: doneText },
    reminder: {
      subject: VERSION_CHANGE_NOTICE_SUBJECT,
      html: VersionChangeNoticeEmail,
      text: versionChangeNoticeText,
    },
    rescheduled: {
      subject: VERSION_CHANGE_RESCHEDULED_SUBJECT,
      html: VersionChangeRescheduledEmail,
      text: versionChangeRescheduledText,
    },
    on_hold: {
      subject: VERSION_CHANGE_ON_HOLD_SUBJECT,
      html: OnHoldEmail,
      text: onHoldText,
    },
  },
};

/** The owner's settings page, linked from every email's footer. */
export function settingsUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/settings`;
}

/**
 * RFC 8058 headers of a warning email: a mail program shows "Unsubscribe"
 * and POSTs to the link, which turns the owner's warning emails off.
 */
export function unsubscribeHeaders(url: string): Record<string, string> {
  return {
    "List-Unsubscribe": `<${url}>`,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
  };
}

/** The footer of the plain-text part: the settings page, and the unsubscribe link on warnings. */
function textFooter(p: ScheduledActionEmailProps): string {
  return [
    "",
    "",
    ...(p.postponeUrl ? [`Change the time: ${p.postponeUrl}`] : []),
    `Notification settings: ${p.settingsUrl}`,
    ...(p.unsubscribeUrl ? [`Stop these emails: ${p.unsubscribeUrl}`] : []),
  ].join("\n");
}

/** The headers a row's email carries (warnings only: a cancellation always arrives). */
function headersOf(props: ScheduledActionEmailProps) {
  return props.unsubscribeUrl
    ? { headers: unsubscribeHeaders(props.unsubscribeUrl) }
    : {};
}

export function workspaceUrl(publicUrl: string, instanceId: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/claw/${
    encodeURIComponent(instanceId)
  }`;
}

/**
 * What the templates print, cleaned for the plain-text part whatever was
 * stored: one-line values hold no line break or control character, the
 * admin's message only "\n" line breaks.
 */
export function emailProps(
  item: NoticeItem,
  publicUrl: string,
): ScheduledActionEmailProps {
  const { notification, user, instance, action, stage, target } = item;
  const isVersion = action.actionType === "version_change";
  const zone = zoneOrUtc(user.timeZone);
  const line = (v: string | null | undefined) => v ? oneLine(v) || null : null;
  const announces = notification.kind === "notice" ||
    notification.kind === "reminder";
  const message = announces && action.noticeBody
    ? plainLines(action.noticeBody) || null
    : null;
  const sourceVersion = line(item.sourceOpenclawVersion);
  const sourceTag = line(target.sourceImageTag);
  return {
    greetingName: greetingName(user.name),
    instanceName: line(instance?.name) || oneLine(notification.instanceId),
    when: formatDateTime(stage.scheduledAt, zone),
    whenUtc: isUtcZone(zone) ? null : formatTime(stage.scheduledAt, "UTC"),
    workspaceUrl: workspaceUrl(publicUrl, notification.instanceId),
    adminMessage: message,
    targetImageTag: isVersion
      ? line(target.targetImageTag) ?? line(action.imageTag)
      : null,
    openclawVersion: isVersion ? line(item.targetOpenclawVersion) : null,
    fromVersion: !isVersion
      ? null
      : sourceVersion
      ? `OpenClaw ${sourceVersion}`
      : sourceTag
      ? `image tag ${sourceTag}`
      : null,
    reminderLabel: reminderLabel(item),
    calendarUrl: item.calendarToken
      ? calendarUrl(publicUrl, item.target.id, item.calendarToken)
      : null,
    settingsUrl: settingsUrl(publicUrl),
    unsubscribeUrl: announces && item.unsubscribeToken
      ? unsubscribeUrl(publicUrl, item.unsubscribeToken)
      : null,
    postponeUrl: announces && action.ownerMayPostpone && item.postponeToken
      ? postponeUrl(publicUrl, item.postponeToken)
      : null,
    ...(notification.kind === "done"
      ? {
        done: {
          actionType: action.actionType,
          status: target.status,
          skipReason: target.skipReason,
        },
        when: formatDateTime(target.finishedAt ?? stage.scheduledAt, zone),
        whenUtc: isUtcZone(zone)
          ? null
          : formatTime(target.finishedAt ?? stage.scheduledAt, "UTC"),
      }
      : {}),
    ...(notification.movedFrom
      ? {
        movedFrom: formatDateTime(notification.movedFrom, zone),
        movedFromUtc: isUtcZone(zone)
          ? null
          : formatTime(notification.movedFrom, "UTC"),
      }
      : {}),
  };
}

/** "Reminder 1 of 2 (24 hours before)", for a reminder row; null otherwise. */
export function reminderLabel(item: NoticeItem): string | null {
  const { notification, action } = item;
  if (notification.kind !== "reminder") return null;
  const hours = notification.reminderLeadHours ?? 0;
  const all = [...(action.reminderLeadHours ?? [])].sort((a, b) => b - a);
  const n = all.indexOf(hours) + 1;
  const before = `${hours} hour${hours === 1 ? "" : "s"} before`;
  return n > 0
    ? `Reminder ${n} of ${all.length} (${before})`
    : `Reminder (${before})`;
}

/**
 * A mail header's text on one line: line breaks and other control
 * characters become single spaces, so nothing typed can start a new header.
 */
export function headerText(s: string): string {
  return oneLine(s);
}

/**
 * One email for several rows of one owner (bundle.ts): the first row's
 * message, about every bot listed; it links the owner's instance list.
 */
export function renderBundleEmail(
  items: NoticeItem[],
  publicUrl: string,
): EmailMessage {
  if (items.length === 1) return renderNoticeEmail(items[0], publicUrl);
  const [first] = items;
  const names = items.map((i) =>
    oneLine(i.instance?.name ?? "") || oneLine(i.notification.instanceId)
  );
  const base = renderNoticeEmail(first, publicUrl);
  const { notification, action } = first;
  const template = TEMPLATES[action.actionType][notification.kind];
  const own = emailProps(first, publicUrl);
  // Bots that run different versions now: say only where they go.
  const sameSource = items.every((i) =>
    emailProps(i, publicUrl).fromVersion === own.fromVersion
  );
  const props: ScheduledActionEmailProps = {
    ...own,
    fromVersion: sameSource ? own.fromVersion : null,
    instanceName: joinNames(names),
    botCount: items.length,
    workspaceUrl: `${publicUrl.replace(/\/+$/, "")}/`,
    // Each bot has its own event; the list has none.
    calendarUrl: null,
  };
  return {
    ...base,
    html: "<!DOCTYPE html>" + renderToString(h(template.html, props)),
    text: template.text(props) + textFooter(props),
    tags: { ...base.tags, rows: String(items.length) },
    notificationIds: items.map((i) => i.notification.id),
  };
}

function withReminder(item: NoticeItem, subject: string): string {
  const label = reminderLabel(item);
  return label ? `${label.replace(/ \(.*\)$/, "")}: ${subject}` : subject;
}

/**
 * The email for one row. The admin's subject replaces the default for
 * notices only: a cancellation always says what it is.
 */
export function renderNoticeEmail(
  item: NoticeItem,
  publicUrl: string,
): EmailMessage {
  const { notification, action } = item;
  const template = TEMPLATES[action.actionType][notification.kind];
  const props = emailProps(item, publicUrl);
  const custom = headerText(action.noticeSubject ?? "");
  if (notification.kind === "done") {
    return {
      to: item.user.email,
      subject: doneSubject(props.done!),
      html: "<!DOCTYPE html>" + renderToString(h(template.html, props)),
      text: template.text(props) + textFooter(props),
      tags: {
        notification: notification.id,
        action: action.id,
        kind: notification.kind,
      },
    };
  }
  return {
    to: item.user.email,
    subject: withReminder(
      item,
      (notification.kind === "notice" || notification.kind === "reminder") &&
        custom
        ? custom
        : template.subject,
    ),
    html: "<!DOCTYPE html>" + renderToString(h(template.html, props)),
    text: template.text(props) +
      (props.calendarUrl ? `\nAdd to calendar: ${props.calendarUrl}` : "") +
      textFooter(props),
    ...headersOf(props),
    tags: {
      notification: notification.id,
      action: action.id,
      kind: notification.kind,
    },
  };
}
