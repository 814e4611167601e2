/** "Your bot … was restarted": the email after the apply, in plain words for every outcome. */
import { EmailLayout } from "./layout.tsx";
import {
  type ScheduledActionEmailProps,
  versionLabel,
  whenLabel,
} from "./props.ts";
import type { ActionType, SkipReason, TargetStatus } from "@/lib/types.ts";

export interface DoneOutcome {
  actionType: ActionType;
  status: TargetStatus;
  skipReason: SkipReason | null;
}

/** What happened, in one sentence without the time: "Your bot Maya's bot was restarted". */
export function doneSentence(
  o: DoneOutcome,
  name: string,
  version: string,
): string {
  const isVersion = o.actionType === "version_change";
  if (o.status === "applied") {
    return isVersion
      ? `Your bot ${name} was upgraded to ${version}`
      : `Your bot ${name} was restarted`;
  }
  const verb = isVersion ? "upgraded" : "restarted";
  if (o.status === "skipped") {
    if (o.skipReason === "destroyed") {
      return `Your bot ${name} was not ${verb}: it no longer exists`;
    }
    if (o.skipReason === "pinned") {
      return `Your bot ${name} was not ${verb}: it is pinned to its current version`;
    }
    if (o.skipReason === "pin_changed_in_flight") {
      return `Your bot ${name} was not ${verb}: its pinned version changed just before`;
    }
    return `Your bot ${name} was not ${verb}`;
  }
  return `Your bot ${name} could not be ${verb}; it runs as before and we are looking into it`;
}

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
