import { EmailLayout } from "./layout.tsx";
import {
  changeLabel,
  instanceWords,
  itOrThey,
  itsOrTheir,
  type ScheduledActionEmailProps,
  whenLabel,
} from "./props.ts";

export const VERSION_CHANGE_CANCELLED_SUBJECT =
  "KiloClaw: Version change cancelled";

function staysOn(p: ScheduledActionEmailProps): string {
  return p.fromVersion
    ? `${itOrThey(p, "stays", "stay")} on ${p.fromVersion}.`
    : `${itOrThey(p, "stays", "stay")} on ${itsOrTheir(p)} current version.`;
}

export function VersionChangeCancelledEmail(p: ScheduledActionEmailProps) {
  return (
    <EmailLayout
      title="Version change cancelled"
      workspaceUrl={p.workspaceUrl}
      settingsUrl={p.settingsUrl}
      unsubscribeUrl={p.unsubscribeUrl}
    >
      <p>Hi {p.greetingName},</p>
      <p>
        The version change of your {instanceWords(p)}{" "}
        <strong>{p.instanceName}</strong> <strong>{changeLabel(p)}</strong>{" "}
        planned for <strong>{p.when}</strong>
        {p.whenUtc ? ` (${p.whenUtc})` : null} has been cancelled. {staysOn(p)}
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
    `The version change of your ${instanceWords(p)} ${p.instanceName} ${
      changeLabel(p)
    } planned for ${whenLabel(p)} has been cancelled. ${staysOn(p)}`,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
