/** The notice settings of an action in one line, for the lists and the action page. */
import type { ScheduledAction } from "@/lib/types.ts";
import { noticeSummary } from "@/lib/action_words.ts";

export function NoticeSummary({ action }: { action: ScheduledAction }) {
  if (!action.notify) return <span class="muted">No notice</span>;
  return <span>{noticeSummary(action)}</span>;
}
