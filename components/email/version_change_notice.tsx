import { AdminMessage, EmailLayout } from "./layout.tsx";
import {
  instanceWords,
  type ScheduledActionEmailProps,
  versionLabel,
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
        Your {instanceWords(p)} <strong>{p.instanceName}</strong> will move to
        {" "}
        <strong>{versionLabel(p)}</strong> on <strong>{p.whenUtc}</strong>
        {p.whenLocal ? ` (${p.whenLocal})` : null}. It restarts as part of the
        change, so your chat may be unavailable for a few minutes.
      </p>
      <AdminMessage text={p.adminMessage} />
    </EmailLayout>
  );
}

export function versionChangeNoticeText(p: ScheduledActionEmailProps): string {
  return [
    ...(p.reminderLabel ? [p.reminderLabel, ""] : []),
    `Hi ${p.greetingName},`,
    "",
    `Your ${instanceWords(p)} ${p.instanceName} will move to ${
      versionLabel(p)
    } on ${
      whenLabel(p)
    }. It restarts as part of the change, so your chat may be unavailable for a few minutes.`,
    ...(p.adminMessage?.trim() ? ["", p.adminMessage.trim()] : []),
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
