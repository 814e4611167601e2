/** The notice settings of an action in one line, for the lists and the action page. */
import type { ScheduledAction } from "@/lib/types.ts";
import { channelList } from "@/lib/channel_names.ts";

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
