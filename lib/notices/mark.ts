/**
 * Recording what a group's send did: each held row sent, failed, or back to
 * pending for a retry with backoff; then the group closes (or waits, for an
 * email group whose rows retry under the same key). A notice that may have
 * reached the user, marked after its action or target was cancelled, queues
 * its `cancelled` row in the same commit (DESIGN rule 4).
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { addNewRow, cancelledRowFor } from "./rows.ts";
import { parentCancelled } from "./parents.ts";
import { getManyById, getManyChunked } from "../kv/read.ts";
import { afterOutcome, putRow } from "./row_moves.ts";
import { heldBy, keepsMembers, openIn, putGroup, released } from "./groups.ts";
import { recordSettled } from "../telemetry.ts";
import type {
  DispatchOutcome,
  NoticeGroup,
  Notification,
  ScheduledAction,
  Target,
} from "../types.ts";

export {
  MAX_ATTEMPTS,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  retryDelayMs,
} from "./row_moves.ts";

/** 25 rows × (row + target + cancelled index + action) stays within 100 checks. */
const MARK_CHUNK = 25;
const MARK_ROUNDS = 5;

export interface MarkCounts {
  sent: number;
  failed: number;
  retried: number;
  /** Rows whose outcome could not be recorded; recovery finishes them from the stored answer. */
  unmarked: number;
}

/** A row the sweep (or recovery) holds, and what its send did. */
export interface Mark {
  entry: Deno.KvEntry<Notification>;
  outcome: DispatchOutcome;
}

const mayHaveReached = (row: Notification) =>
  row.kind === "notice" &&
  (row.status === "sent" ||
    (row.status === "failed" && row.deliveryUncertain === true));

/**
 * Marks the rows of one group, in chunks, then closes the group. Rows share
 * one jitter so an email group's retries come due together.
 */
export async function settleGroup(
  kv: Deno.Kv,
  group: Deno.KvEntry<NoticeGroup>,
  marks: Mark[],
  now: number,
  log?: (message: string, data?: Record<string, unknown>) => void,
): Promise<MarkCounts> {
  const counts: MarkCounts = { sent: 0, failed: 0, retried: 0, unmarked: 0 };
  const jitter = Math.random();
  const keepGroup = keepsMembers(group.value.channel);
  for (let i = 0; i < marks.length; i += MARK_CHUNK) {
    const part = marks.slice(i, i + MARK_CHUNK);
    try {
      const done = await markChunk(kv, part, now, jitter, keepGroup);
      for (const row of done) {
        if (row.status === "sent") counts.sent++;
        else if (row.status === "failed") counts.failed++;
        else counts.retried++;
      }
      counts.unmarked += part.length - done.length;
    } catch (err) {
      // Left in `sending`; recovery finishes them from the stored answer.
      counts.unmarked += part.length;
      log?.("notice marking failed", {
        group: group.value.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (counts.unmarked === 0) await closeGroup(kv, group, now);
  recordSettled(group.value.channel, counts);
  return counts;
}

/** Once no member is held: the group waits for its open members' retry, or is gone. */
export async function closeGroup(
  kv: Deno.Kv,
  group: Deno.KvEntry<NoticeGroup>,
  now: number,
): Promise<void> {
  const g = group.value;
  const members = await getManyChunked<Notification>(
    kv,
    g.members.map((id) => keys.notification(id)),
  );
  const rows = members.flatMap((m) => m.value ? [m.value] : []);
  if (rows.some((r) => heldBy(g, r))) return;
  const after = rows.some((r) => openIn(g, r)) ? released(g, now) : null;
  await commitRetrying(() => putGroup(kv.atomic().check(group), g, after));
}

async function markChunk(
  kv: Deno.Kv,
  marks: Mark[],
  now: number,
  jitter: number,
  keepGroup: boolean,
): Promise<Notification[]> {
  let pending = marks;
  for (let round = 0; round < MARK_ROUNDS && pending.length; round++) {
    const next = pending.map((m) =>
      afterOutcome(m.entry.value, m.outcome, { jitter, keepGroup }, now)
    );
    const reached = next.filter(mayHaveReached);
    const [targets, actions, cancelledIdx] = await Promise.all([
      getManyById<Target>(kv, reached.map((r) => r.targetId), keys.target),
      getManyById<ScheduledAction>(
        kv,
        reached.map((r) => r.actionId),
        keys.action,
      ),
      getManyChunked<string>(
        kv,
        reached.map((r) =>
          keys.notificationByTarget(r.targetId, "cancelled", r.channel)
        ),
      ),
    ]);
    const followUpIdx = new Map(reached.map((r, i) => [r.id, cancelledIdx[i]]));
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      const checked = new Set<string>();
      const checkOnce = (e: Deno.AtomicCheck) => {
        const id = JSON.stringify(e.key);
        if (!checked.has(id)) op.check(e);
        checked.add(id);
      };
      pending.forEach((m, i) => {
        checkOnce(m.entry);
        putRow(op, m.entry.value, next[i]);
        if (!mayHaveReached(next[i])) return;
        // Checking the parents makes a cancel that lands between this read and
        // the commit fail the commit, so the follow-up is never missed.
        const target = targets.get(next[i].targetId)!;
        const action = actions.get(next[i].actionId)!;
        const idx = followUpIdx.get(next[i].id)!;
        checkOnce(target);
        checkOnce(action);
        checkOnce(idx);
        if (parentCancelled(action.value, target.value) && !idx.value) {
          addNewRow(op, cancelledRowFor(next[i], now));
        }
      });
      return op;
    });
    if (res.ok) return next;
    // Something moved: keep only rows still in our claim, with fresh versionstamps.
    const fresh = await getManyChunked<Notification>(
      kv,
      pending.map((m) => m.entry.key),
    );
    pending = pending.flatMap((m, i) => {
      const cur = fresh[i];
      const ours = cur.value?.status === "sending" &&
        cur.value.claimId === m.entry.value.claimId;
      return ours ? [{ ...m, entry: cur as Deno.KvEntry<Notification> }] : [];
    });
  }
  return [];
}
