import { EmailLayout } from "./layout.tsx";
import {
  instanceWords,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const RESTART_ON_HOLD_SUBJECT = "KiloClaw: Restart on hold";
export const VERSION_CHANGE_ON_HOLD_SUBJECT = "KiloClaw: Upgrade on hold";

const what = (p: ScheduledActionEmailProps) =>
  p.targetImageTag ? "upgrade" : "restart";

/**
 * A rollout paused before this owner's wave: the time they were told will
 * not happen, and a new one will be announced.
 */
export function OnHoldEmail(p: ScheduledActionEmailProps) {
  return (
    <EmailLayout
      title={p.targetImageTag ? "Upgrade on hold" : "Restart on hold"}
      workspaceUrl={p.workspaceUrl}
      settingsUrl={p.settingsUrl}
    >
      <p>Hi {p.greetingName},</p>
      <p>
        The {what(p)} of your {instanceWords(p)}{" "}
        <strong>{p.instanceName}</strong> planned for <strong>{p.when}</strong>
        {p.whenUtc ? ` (${p.whenUtc})` : null}{" "}
        is on hold: nothing will happen at that time. We will tell you the new
        time before anything changes.
      </p>
    </EmailLayout>
  );
}

export function onHoldText(p: ScheduledActionEmailProps): string {
  return [
    `Hi ${p.greetingName},`,
    "",
    `The ${what(p)} of your ${instanceWords(p)} ${p.instanceName} planned for ${
      whenLabel(p)
    } is on hold: nothing will happen at that time. We will tell you the new time before anything changes.`,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
