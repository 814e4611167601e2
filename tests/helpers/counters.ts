/**
 * Checks an action's counters against the rows: the stored notice and target
 * counts equal a recount from the rows and targets, and the stages' notice
 * counts add up to the action's.
 */
import assert from "node:assert/strict";
import { storedCounters, tallyAction } from "@/lib/notices/recount.ts";
import {
  readNoticeCounts,
  readStageNoticeCounts,
} from "@/lib/notices/counters.ts";
import type { NoticeTally } from "@/lib/notices/counters.ts";

const plain = (m: Map<string, { value: bigint }>) =>
  Object.fromEntries(
    [...m].map(([k, v]) => [k, String(v.value)]).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    ),
  );

export async function assertCountersMatchRows(
  kv: Deno.Kv,
  actionId: string,
  when: string,
): Promise<void> {
  const [want, have] = await Promise.all([
    tallyAction(kv, actionId),
    storedCounters(kv, actionId),
  ]);
  assert.deepEqual(plain(have), plain(want), `counters after ${when}`);
  const [whole, byStage] = await Promise.all([
    readNoticeCounts(kv, actionId),
    readStageNoticeCounts(kv, actionId),
  ]);
  assert.deepEqual(
    sumTallies([...byStage.values()].flat()),
    sumTallies(whole),
    `stages add up to the action after ${when}`,
  );
}

/** Tallies of one kind and channel added together, keyed for comparison. */
export function sumTallies(list: NoticeTally[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const t of list) {
    const k = `${t.kind}/${t.channel}`;
    const cur = out[k] ?? [0, 0, 0, 0];
    out[k] = [
      cur[0] + t.pending,
      cur[1] + t.sent,
      cur[2] + t.notDelivered,
      cur[3] + t.failed,
    ];
  }
  return Object.fromEntries(Object.entries(out).sort());
}

/** How many rows the counters hold for the action, whatever their state. */
export async function countedRows(
  kv: Deno.Kv,
  actionId: string,
): Promise<number> {
  return (await readNoticeCounts(kv, actionId)).reduce(
    (n, t) => n + t.pending + t.sent + t.notDelivered + t.failed,
    0,
  );
}
