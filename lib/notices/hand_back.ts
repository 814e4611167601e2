/**
 * Handing a group's held rows back to pending: recovery after a lease ended
 * with no stored answer, or a claim that could not hold a waiting group whole.
 * An email group keeps its members (they go out again under its key); other
 * channels, and a group never sealed, let them go to be grouped afresh.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { asFailed, asPending, MAX_ATTEMPTS, putRow } from "./row_status.ts";
import { heldBy, keepsMembers, openIn, putGroup, released } from "./groups.ts";
import type { NoticeGroup, Notification } from "../types.ts";

/** Rows per commit, with one check left for the group record. */
const CHUNK = 90;

export interface HandBackResult {
  /** Rows back to pending. */
  recovered: number;
  /** Rows that used their attempts and failed. */
  failed: number;
}

export async function handBack(
  kv: Deno.Kv,
  group: Deno.KvEntry<NoticeGroup>,
  o: {
    /** The group may have been sent (sealed with no stored answer). */
    uncertain: boolean;
    now: number;
  },
): Promise<HandBackResult> {
  const g = group.value;
  const members = (await getManyChunked<Notification>(
    kv,
    g.members.map((id) => keys.notification(id)),
  )).filter((e): e is Deno.KvEntry<Notification> => e.value !== null);
  const keep = keepsMembers(g.channel) && g.sends > 0;
  const held = members.filter((m) => heldBy(g, m.value));
  const next = held.map((m): Notification => {
    const row = m.value;
    if (!o.uncertain) {
      // Never sent under this claim: the claim was not an attempt.
      return {
        ...asPending(row, {
          dueAt: row.dueAt,
          error: row.error ?? "handed back unsent",
          keepGroup: keep,
        }, o.now),
        attempts: Math.max(0, row.attempts - 1),
      };
    }
    if (row.attempts >= MAX_ATTEMPTS) {
      return {
        ...asFailed(
          row,
          `gave up after ${row.attempts} attempts: dispatch did not finish`,
          o.now,
        ),
        deliveryUncertain: true,
      };
    }
    return asPending(row, {
      dueAt: row.dueAt,
      error: "recovered after an unfinished dispatch",
      uncertain: true,
      keepGroup: keep,
    }, o.now);
  });
  const stillOpen = members.some((m) => {
    const j = held.indexOf(m);
    const row = j >= 0 ? next[j] : m.value;
    return openIn(g, row);
  });
  const after = stillOpen ? released(g, o.now) : null;

  const result: HandBackResult = { recovered: 0, failed: 0 };
  for (let i = 0; i < Math.max(1, held.length); i += CHUNK) {
    const last = i + CHUNK >= held.length;
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(group);
      for (let j = i; j < Math.min(i + CHUNK, held.length); j++) {
        putRow(op.check(held[j]), held[j].value, next[j]);
      }
      if (last) putGroup(op, g, after);
      return op;
    });
    // Someone else moved the group or a row: the next recovery judges again.
    if (!res.ok) return result;
    for (let j = i; j < Math.min(i + CHUNK, held.length); j++) {
      if (next[j].status === "failed") result.failed++;
      else result.recovered++;
    }
  }
  return result;
}
