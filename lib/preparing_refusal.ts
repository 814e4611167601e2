/**
 * While a large action is written in the background (`preparing`), only a
 * cancel may touch it: a move, a one-instance cancel or a rollout control
 * would race the write, which lays down targets and rows the change has not
 * seen. One refusal, the same words everywhere.
 */
import { ConflictError } from "./errors.ts";
import type { ScheduledAction } from "./types.ts";

/** Throws a 409 when `action` is still being written; `cannot` says what was refused. */
export function refuseWhilePreparing(
  action: Pick<ScheduledAction, "id" | "status">,
  cannot: string,
): void {
  if (action.status !== "preparing") return;
  throw new ConflictError(
    `action ${action.id} is still being written (preparing): ${cannot}; cancel it or wait until it is scheduled`,
  );
}
