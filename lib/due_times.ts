/**
 * When warnings come due, in one place for the schedule, the notice rows, the
 * previews and the action page's island: a notice `noticeLeadHours` before
 * the stage's time, each reminder its own lead before it. Side-effect free,
 * so islands may import it.
 */
import type { Notification, ScheduledAction, Stage } from "./types.ts";

export const HOUR_MS = 3_600_000;

/** When a notice for this stage becomes due: scheduledAt − lead window. */
export function noticeDueAt(
  action: Pick<ScheduledAction, "noticeLeadHours">,
  stage: Pick<Stage, "scheduledAt">,
): number {
  return Date.parse(stage.scheduledAt) - action.noticeLeadHours * HOUR_MS;
}

/** When a reminder (`leadHours` before the time) for this stage becomes due. */
export function reminderDueAt(
  leadHours: number,
  stage: Pick<Stage, "scheduledAt">,
): number {
  return Date.parse(stage.scheduledAt) - leadHours * HOUR_MS;
}

/** The due time a notice or reminder row has at its stage's current time and lead. */
export function warningDueAt(
  row: Pick<Notification, "kind" | "reminderLeadHours">,
  action: Pick<ScheduledAction, "noticeLeadHours">,
  stage: Pick<Stage, "scheduledAt">,
): number | null {
  if (row.kind === "notice") return noticeDueAt(action, stage);
  if (row.kind === "reminder" && row.reminderLeadHours !== undefined) {
    return reminderDueAt(row.reminderLeadHours, stage);
  }
  return null;
}
