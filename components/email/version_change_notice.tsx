import { AdminMessage, EmailLayout } from "./layout.tsx";
import {
  changeLabel,
  instanceWords,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const VERSION_CHANGE_NOTICE_SUBJECT =
  "KiloClaw: Version Change Scheduled";

export function VersionChangeNoticeEmail(p: ScheduledActionEmailProps) {
  return (
    <EmailLayout
      title="Version change scheduled"
      workspaceUrl={p.workspaceUrl}
      calendarUrl={p.calendarUrl}
    >
      {p.reminderLabel && (
        <p>
          <strong>{p.reminderLabel}</strong>
        </p>
      )}
      <p>Hi {p.greetingName},</p>
      <p>
        Your {instanceWords(p)} <strong>{p.instanceName}</strong> will move{" "}
        <strong>{changeLabel(p)}</strong> on <strong>{p.when}</strong>
        {p.whenUtc ? ` (${p.whenUtc})` : null}. It restarts as part of the
        change, so your chat may be unavailable for a few minutes.
      </p>
      <AdminMessage text={p.adminMessage} />
      {p.targetImageTag && (
        <p style={{ fontSize: "12px", color: "#57534e" }}>
          New image tag: {p.targetImageTag}
        </p>
      )}
    </EmailLayout>
  );
}

export function versionChangeNoticeText(p: ScheduledActionEmailProps): string {
  return [
    ...(p.reminderLabel ? [p.reminderLabel, ""] : []),
    `Hi ${p.greetingName},`,
    "",
    `Your ${instanceWords(p)} ${p.instanceName} will move ${
      changeLabel(p)
    } on ${
      whenLabel(p)
    }. It restarts as part of the change, so your chat may be unavailable for a few minutes.`,
    ...(p.adminMessage?.trim() ? ["", p.adminMessage.trim()] : []),
    ...(p.targetImageTag ? ["", `New image tag: ${p.targetImageTag}`] : []),
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
