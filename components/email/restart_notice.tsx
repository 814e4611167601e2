import { AdminMessage, EmailLayout } from "./layout.tsx";
import {
  instanceWords,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const RESTART_NOTICE_SUBJECT = "KiloClaw: Restart Scheduled";

export function RestartNoticeEmail(p: ScheduledActionEmailProps) {
  return (
    <EmailLayout
      title="Restart scheduled"
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
        Your {instanceWords(p)} <strong>{p.instanceName}</strong>{" "}
        will restart on <strong>{p.when}</strong>
        {p.whenUtc ? ` (${p.whenUtc})` : null}. Your chat may be unavailable for
        a few minutes while it comes back up.
      </p>
      <AdminMessage text={p.adminMessage} />
    </EmailLayout>
  );
}

export function restartNoticeText(p: ScheduledActionEmailProps): string {
  return [
    ...(p.reminderLabel ? [p.reminderLabel, ""] : []),
    `Hi ${p.greetingName},`,
    "",
    `Your ${instanceWords(p)} ${p.instanceName} will restart on ${
      whenLabel(p)
    }. Your chat may be unavailable for a few minutes while it comes back up.`,
    ...(p.adminMessage?.trim() ? ["", p.adminMessage.trim()] : []),
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
