/** "Restart" or "Version change → tag", as admins read an action. */
import type { ScheduledAction } from "@/lib/types.ts";

export function actionLabel(
  a: Pick<ScheduledAction, "actionType" | "imageTag">,
): string {
  return a.actionType === "version_change"
    ? `Version change → ${a.imageTag}`
    : "Restart";
}

const CHANNEL_NAMES = {
  email: "email",
  webapp: "banner",
  mobile_push: "push",
} as const;

export function NoticeSummary({ action }: { action: ScheduledAction }) {
  if (!action.notify) return <span class="muted">No notice</span>;
  return (
    <span>
      {action.noticeLeadHours} h ahead by{" "}
      {action.noticeChannels.map((c) => CHANNEL_NAMES[c]).join(", ")}
      {action.reminderLeadHours?.length
        ? `; reminders ${action.reminderLeadHours.join(" h and ")} h ahead`
        : ""}
      {action.doneChannels?.length
        ? `; done notice by ${
          action.doneChannels.map((c) => CHANNEL_NAMES[c]).join(", ")
        }`
        : ""}
    </span>
  );
}
