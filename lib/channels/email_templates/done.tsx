/** "Your bot … was restarted": the email after the apply, in plain words for every outcome. */
import { EmailLayout } from "./layout.tsx";
import {
  type ScheduledActionEmailProps,
  versionLabel,
  whenLabel,
} from "./props.ts";
import type { ActionType } from "@/lib/types.ts";
import { type DoneOutcome, doneSentence } from "@/lib/action_words.ts";

export const DONE_SUBJECTS: Record<ActionType, string> = {
  scheduled_restart: "KiloClaw: Restart done",
  version_change: "KiloClaw: Version change done",
};

export function doneSubject(o: DoneOutcome): string {
  if (o.status === "applied") return DONE_SUBJECTS[o.actionType];
  return o.actionType === "version_change"
    ? "KiloClaw: Version change not done"
    : "KiloClaw: Restart not done";
}

export function DoneEmail(p: ScheduledActionEmailProps) {
  const o = p.done!;
  return (
    <EmailLayout
      title={o.status === "applied" ? "Done" : "Not done"}
      workspaceUrl={p.workspaceUrl}
      settingsUrl={p.settingsUrl}
      unsubscribeUrl={p.unsubscribeUrl}
    >
      <p>Hi {p.greetingName},</p>
      <p>
        {doneSentence(o, p.instanceName, versionLabel(p))} ({whenLabel(p)}).
      </p>
    </EmailLayout>
  );
}

export function doneText(p: ScheduledActionEmailProps): string {
  return [
    `Hi ${p.greetingName},`,
    "",
    `${doneSentence(p.done!, p.instanceName, versionLabel(p))} (${
      whenLabel(p)
    }).`,
    "",
    `Open your workspace: ${p.workspaceUrl}`,
  ].join("\n");
}
