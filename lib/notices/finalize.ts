/**
 * Finalizing pending rows that must not be sent (stale parents, too late,
 * orphans, cancelled), each checked by versionstamp. A notice that may
 * already have reached the user queues its cancellation in the same commit
 * (DESIGN rule 4).
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { addNewRow, cancelledRowFor } from "./rows.ts";
import { asFailed, putRow } from "./row_status.ts";
import type { Notification } from "../types.ts";

export interface FinalFailure {
  entry: Deno.KvEntry<Notification>;
  error: string;
  /** Queue the row's cancellation: it may have reached the user. */
  followUp: boolean;
}

/** Row + follow-up index checks per failure stay within KV's 100 checks. */
const CHUNK = 45;

/**
 * Returns how many rows were finalized; a row changed meanwhile is left for
 * the next sweep to judge.
 */
export async function commitFinalFailures(
  kv: Deno.Kv,
  failures: FinalFailure[],
  now: number,
): Promise<number> {
  let done = 0;
  for (let i = 0; i < failures.length; i += CHUNK) {
    const part = failures.slice(i, i + CHUNK);
    const withFollowUp = part.filter((f) => f.followUp);
    const existing = await getManyChunked<string>(
      kv,
      withFollowUp.map((f) =>
        keys.notificationByTarget(
          f.entry.value.targetId,
          "cancelled",
          f.entry.value.channel,
        )
      ),
    );
    const followUpIdx = new Map(
      withFollowUp.map((f, j) => [f.entry.value.id, existing[j]]),
    );
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const { entry, error, followUp } of part) {
        const row = entry.value;
        putRow(op.check(entry), row, asFailed(row, error, now));
        const idx = followUpIdx.get(row.id);
        if (followUp && idx && !idx.value) {
          addNewRow(op, cancelledRowFor(row, now));
        }
      }
      return op;
    });
    if (res.ok) {
      done += part.length;
    } else if (part.length > 1) {
      // One changed row must not keep the others pending: retry them one by one.
      for (const f of part) done += await commitFinalFailures(kv, [f], now);
    }
  }
  return done;
}
