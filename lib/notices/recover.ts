/**
 * Recovery (DESIGN rule 3): rows left in `sending` longer than the threshold
 * (a sweep crashed between claim and mark) go back to pending. Only the
 * sending index is read, oldest claim first, never all rows.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyChunked } from "../kv/read.ts";
import { MAX_ATTEMPTS } from "./mark.ts";
import type { Notification } from "../types.ts";

const CHUNK = 100;

export async function recoverStuckRows(
  kv: Deno.Kv,
  now: number,
  recoveryMs: number,
): Promise<{ recovered: number; failed: number }> {
  const counts = { recovered: 0, failed: 0 };
  const selector = {
    prefix: keys.notificationsSending(),
    end: [...keys.notificationsSending(), now - recoveryMs],
  };
  let cursor: string | undefined;
  for (;;) {
    const iter = kv.list(selector, { limit: CHUNK, cursor });
    const stuck: Deno.KvKey[] = [];
    for await (const e of iter) stuck.push(e.key);
    if (!stuck.length) break;
    cursor = iter.cursor;
    const rows = await getManyChunked<Notification>(
      kv,
      stuck.map((k) => keys.notification(k[2] as string)),
    );
    const at = new Date(now).toISOString();
    let recovered = 0, failed = 0;
    const res = await commitRetrying(() => {
      recovered = failed = 0;
      const op = kv.atomic();
      stuck.forEach((key, i) => {
        const entry = rows[i];
        op.check(entry).delete(key);
        const row = entry.value;
        // A sending key whose row moved on is debris; dropping it is all there is to do.
        if (
          row?.status !== "sending" ||
          Date.parse(row.claimedAt ?? "") !== key[1]
        ) return;
        if (row.attempts >= MAX_ATTEMPTS) {
          failed++;
          op.set(
            entry.key,
            {
              ...row,
              status: "failed",
              error:
                `gave up after ${row.attempts} attempts: dispatch did not finish (recovered from sending)`,
              updatedAt: at,
            } satisfies Notification,
          );
          return;
        }
        recovered++;
        op.set(
          entry.key,
          {
            ...row,
            status: "pending",
            deliveryUncertain: true,
            error: "recovered after an unfinished dispatch",
            updatedAt: at,
          } satisfies Notification,
        )
          .set(keys.notificationDue(row.dueAt, row.id), null);
      });
      return op;
    });
    // A lost commit means another sweep recovered these rows at the same time.
    if (res.ok) {
      counts.recovered += recovered;
      counts.failed += failed;
    }
    if (stuck.length < CHUNK) break;
  }
  return counts;
}
