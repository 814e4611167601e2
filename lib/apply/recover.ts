/**
 * Targets whose applier vanished (claimed long ago, still running) go back to
 * pending for the stage's next run, or fail once they used their attempts.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { addNewRow, buildDoneRows } from "../notices/rows.ts";
import type { ScheduledAction, Target } from "../types.ts";
import { MAX_APPLY_ATTEMPTS } from "./decide.ts";
import {
  asEnded,
  asPendingAgain,
  dropStaleRunningKey,
  putTarget,
} from "./target_status.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";

/** A target still running this long after its claim lost its applier (crash); it goes back to pending. */
export const STUCK_RUNNING_MS = 10 * 60_000;

/** Takes back every stuck target; returns how many. */
export async function recoverStuckTargets(
  kv: Deno.Kv,
  now: number,
): Promise<number> {
  let recovered = 0;
  for await (
    const e of kv.list({
      start: keys.targetsRunning(),
      end: [...keys.targetsRunning(), now - STUCK_RUNNING_MS + 1],
    })
  ) {
    const targetId = e.key[2] as string;
    const t = await kv.get<Target>(keys.target(targetId));
    const cur = t.value;
    const stuck = cur?.status === "running" &&
      Date.parse(cur.claimedAt!) === e.key[1];
    const owner = stuck
      ? (await kv.get<ScheduledAction>(keys.action(cur.actionId))).value
      : null;
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(t);
      if (!stuck) return dropStaleRunningKey(op, e.key);
      if ((cur.attempts ?? 1) < MAX_APPLY_ATTEMPTS) {
        return putTarget(
          op,
          cur,
          asPendingAgain(cur, "recovered: the apply did not finish", now),
        );
      }
      const failed = asEnded(cur, {
        status: "failed",
        error: `the apply did not finish after ${cur.attempts} attempts`,
      }, now);
      putTarget(op, cur, failed);
      for (const row of owner ? buildDoneRows(owner, failed, now) : []) {
        addNewRow(op, row);
      }
      if (owner) {
        addWebhookEvent(
          op,
          actionEvent("target.failed", owner, now, { target: failed }),
        );
      }
      return op;
    });
    if (res.ok && stuck) recovered++;
  }
  return recovered;
}
