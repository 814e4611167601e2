/**
 * "Restart" or "Version change to OpenClaw 1.9.0", as admins read an action:
 * by the version people know, the image tag only when the catalog has no
 * version for it.
 */
import type { ScheduledAction } from "@/lib/types.ts";
import { channelList } from "@/lib/channel_names.ts";

export function actionLabel(
  a: Pick<ScheduledAction, "actionType" | "imageTag">,
  openclawVersion?: string | null,
): string {
  if (a.actionType !== "version_change") return "Restart";
  return openclawVersion
    ? `Version change to OpenClaw ${openclawVersion}`
    : `Version change to ${a.imageTag}`;
}

export function NoticeSummary({ action }: { action: ScheduledAction }) {
  if (!action.notify) return <span class="muted">No notice</span>;
  return (
    <span>
      {action.noticeLeadHours} h ahead by {channelList(action.noticeChannels)}
      {action.reminderLeadHours?.length
        ? `; reminders ${action.reminderLeadHours.join(" h and ")} h ahead`
        : ""}
      {action.doneChannels?.length
        ? `; done notice by ${channelList(action.doneChannels)}`
        : ""}
    </span>
  );
}
