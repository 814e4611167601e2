/**
 * Recovery (DESIGN rule 3): groups whose lease ended while their holder did
 * not finish. A group with a stored answer is finished from it (marked as
 * the holder would have); one without is handed back, its rows pending again
 * (an email group keeps them, to be sent again under the same key). Only the
 * lease index is read, oldest lease first, never all rows.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { handBack } from "./hand_back.ts";
import { heldBy } from "./groups.ts";
import { type Mark, settleGroup } from "./mark.ts";
import type { NoticeGroup, Notification } from "../types.ts";
import { recordNoticeRows } from "../operations/telemetry.ts";

const PAGE = 100;

export interface RecoveryCounts {
  /** Rows back to pending. */
  recovered: number;
  /** Rows finalized: marked from a stored answer, or out of attempts. */
  failed: number;
  sent: number;
}

export async function recoverGroups(
  kv: Deno.Kv,
  now: number,
): Promise<RecoveryCounts> {
  const counts: RecoveryCounts = { recovered: 0, failed: 0, sent: 0 };
  const selector = {
    prefix: keys.noticeGroupLeases(),
    end: [...keys.noticeGroupLeases(), now + 1],
  };
  for (;;) {
    const ended: Deno.KvKey[] = [];
    for await (const e of kv.list(selector, { limit: PAGE })) {
      ended.push(e.key);
    }
    if (!ended.length) break;
    let progress = false;
    for (const key of ended) {
      const group = await kv.get<NoticeGroup>(
        keys.noticeGroup(key[2] as string),
      );
      const g = group.value;
      if (!g || g.leaseUntil !== key[1]) {
        // A lease key whose group moved on is debris.
        const res = await commitRetrying(() =>
          kv.atomic().check(group).delete(key)
        );
        progress ||= res.ok;
        continue;
      }
      const before = { ...counts };
      await recoverGroup(kv, group as Deno.KvEntry<NoticeGroup>, now, counts);
      const after = await kv.get(key);
      progress ||= after.versionstamp === null ||
        counts.recovered + counts.failed + counts.sent >
          before.recovered + before.failed + before.sent;
    }
    // Another sweep is recovering the same groups; leave the rest to it.
    if (!progress || ended.length < PAGE) break;
  }
  return counts;
}

async function recoverGroup(
  kv: Deno.Kv,
  group: Deno.KvEntry<NoticeGroup>,
  now: number,
  counts: RecoveryCounts,
): Promise<void> {
  const g = group.value;
  if (g.outcomes) {
    // The provider answered and the answer is stored: finish the marks.
    const members = await getManyChunked<Notification>(
      kv,
      g.members.map((id) => keys.notification(id)),
    );
    const marks: Mark[] = members.flatMap((m) =>
      m.value && heldBy(g, m.value) && g.outcomes![m.value.id]
        ? [{
          entry: m as Deno.KvEntry<Notification>,
          outcome: g.outcomes![m.value.id],
        }]
        : []
    );
    const done = await settleGroup(kv, group, marks, now);
    counts.sent += done.sent;
    counts.failed += done.failed;
    counts.recovered += done.retried;
    return;
  }
  const r = await handBack(kv, group, {
    // Sealed: the send may have happened. Forming: nothing went out under this claim.
    uncertain: g.state === "sealed",
    now,
  });
  counts.recovered += r.recovered;
  counts.failed += r.failed;
  recordNoticeRows(g.channel, "recovered", r.recovered);
  recordNoticeRows(g.channel, "failed", r.failed);
}
