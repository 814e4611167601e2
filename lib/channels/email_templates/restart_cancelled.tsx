import { EmailLayout } from "./layout.tsx";
import {
  instanceWords,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const RESTART_CANCELLED_SUBJECT = "KiloClaw: Restart cancelled";

export function RestartCancelledEmail(p: ScheduledActionEmailProps) {
  return (
    <EmailLayout
      title="Restart cancelled"
      workspaceUrl={p.workspaceUrl}
      settingsUrl={p.settingsUrl}
      unsubscribeUrl={p.unsubscribeUrl}
    >
      <p>Hi {p.greetingName},</p>
      <p>
        The restart of your {instanceWords(p)} <strong>{p.instanceName}</strong>
        {" "}
        planned for <strong>{p.when}</strong>
        {p.whenUtc ? ` (${p.whenUtc})` : null}{" "}
        has been cancelled. Nothing changes for you.
      </p>
    </EmailLayout>
  );
}

export function restartCancelledText(p: ScheduledActionEmailProps): string {
  return [
    `Hi ${p.greetingName},`,
    "",
    `The restart of your ${instanceWords(p)} ${p.instanceName} planned for ${
      whenLabel(p)
    } has been cancelled. Nothing changes for you.`,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
