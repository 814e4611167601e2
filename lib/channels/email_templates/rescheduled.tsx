import { EmailLayout } from "./layout.tsx";
import {
  instanceWords,
  movedFromLabel,
  type ScheduledActionEmailProps,
  versionLabel,
  whenLabel,
} from "./props.ts";

export const RESTART_RESCHEDULED_SUBJECT = "KiloClaw: Restart moved";
export const VERSION_CHANGE_RESCHEDULED_SUBJECT =
  "KiloClaw: Version change moved";

function what(p: ScheduledActionEmailProps, isVersion: boolean): string {
  return isVersion ? `version change to ${versionLabel(p)}` : "restart";
}

function RescheduledEmail(
  p: ScheduledActionEmailProps & { isVersion: boolean },
) {
  return (
    <EmailLayout
      title={p.isVersion ? "Version change moved" : "Restart moved"}
      workspaceUrl={p.workspaceUrl}
      settingsUrl={p.settingsUrl}
      unsubscribeUrl={p.unsubscribeUrl}
      calendarUrl={p.calendarUrl}
    >
      <p>Hi {p.greetingName},</p>
      <p>
        The {what(p, p.isVersion)} of your {instanceWords(p)}{" "}
        <strong>{p.instanceName}</strong> has moved from{" "}
        <strong>{movedFromLabel(p)}</strong> to{" "}
        <strong>{whenLabel(p)}</strong>. Nothing happens at the old time.
      </p>
    </EmailLayout>
  );
}

function rescheduledText(
  p: ScheduledActionEmailProps,
  isVersion: boolean,
): string {
  return [
    `Hi ${p.greetingName},`,
    "",
    `The ${what(p, isVersion)} of your ${
      instanceWords(p)
    } ${p.instanceName} has moved from ${movedFromLabel(p)} to ${
      whenLabel(p)
    }. Nothing happens at the old time.`,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}

export const RestartRescheduledEmail = (p: ScheduledActionEmailProps) =>
  RescheduledEmail({ ...p, isVersion: false });
export const restartRescheduledText = (p: ScheduledActionEmailProps) =>
  rescheduledText(p, false);
export const VersionChangeRescheduledEmail = (p: ScheduledActionEmailProps) =>
  RescheduledEmail({ ...p, isVersion: true });
export const versionChangeRescheduledText = (p: ScheduledActionEmailProps) =>
  rescheduledText(p, true);
