import { EmailLayout } from "./layout.tsx";
import {
  instanceWords,
  type ScheduledActionEmailProps,
  versionLabel,
  whenLabel,
} from "./props.ts";

export const VERSION_CHANGE_CANCELLED_SUBJECT =
  "KiloClaw: Version Change Cancelled";

export function VersionChangeCancelledEmail(p: ScheduledActionEmailProps) {
  return (
    <EmailLayout title="Version change cancelled" workspaceUrl={p.workspaceUrl}>
      <p>Hi {p.greetingName},</p>
      <p>
        The move of your {instanceWords(p)} <strong>{p.instanceName}</strong> to
        {" "}
        <strong>{versionLabel(p)}</strong> planned for{" "}
        <strong>{p.whenUtc}</strong>
        {p.whenLocal ? ` (${p.whenLocal})` : null}{" "}
        has been cancelled. It stays on its current version.
      </p>
    </EmailLayout>
  );
}

export function versionChangeCancelledText(
  p: ScheduledActionEmailProps,
): string {
  return [
    `Hi ${p.greetingName},`,
    "",
    `The move of your ${instanceWords(p)} ${p.instanceName} to ${
      versionLabel(p)
    } planned for ${
      whenLabel(p)
    } has been cancelled. It stays on its current version.`,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
