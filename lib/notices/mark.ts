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
import { getManyById, getManyChunked } from "../kv/batched_reads.ts";
import { afterOutcome, putRow } from "./row_status.ts";
import { heldBy, keepsMembers, openIn, putGroup, released } from "./groups.ts";
import { recordSettled } from "../operations/telemetry.ts";
import { isWarning } from "../types.ts";
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
} from "./row_status.ts";

/** 48 rows × (row + target) + action + group stays within 100 checks. */
const MARK_CHUNK = 48;
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
  /** The parents as the claim read them: the first try checks these instead of reading again. */
  parents?: {
    target: Deno.KvEntryMaybe<Target>;
    action: Deno.KvEntryMaybe<ScheduledAction>;
  };
}

const mayHaveReached = (row: Notification) =>
  isWarning(row.kind) &&
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
  const g = group.value;
  const keepGroup = keepsMembers(g.channel);
  // When these marks are the whole group, the last chunk closes it too.
  const marked = new Set(marks.map((m) => m.entry.value.id));
  const whole = g.members.length === marks.length &&
    g.members.every((id) => marked.has(id));
  let closed = false;
  for (let i = 0; i < marks.length; i += MARK_CHUNK) {
    const part = marks.slice(i, i + MARK_CHUNK);
    const last = i + MARK_CHUNK >= marks.length;
    const closing = whole && last && counts.unmarked === 0
      ? (next: Notification[]) => {
        const stillOpen = counts.retried > 0 ||
          next.some((r) => r.status === "pending");
        return keepGroup && stillOpen ? released(g, now) : null;
      }
      : undefined;
    try {
      const done = await markChunk(kv, part, now, jitter, keepGroup, {
        group,
        closing,
      });
      for (const row of done.rows) {
        if (row.status === "sent") counts.sent++;
        else if (row.status === "failed") counts.failed++;
        else counts.retried++;
      }
      counts.unmarked += part.length - done.rows.length;
      closed ||= done.closed;
    } catch (err) {
      // Left in `sending`; recovery finishes them from the stored answer.
      counts.unmarked += part.length;
      log?.("notice marking failed", {
        group: g.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (counts.unmarked === 0 && !closed) await closeGroup(kv, group, now);
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
  o: {
    group: Deno.KvEntry<NoticeGroup>;
    /** Given the chunk's new rows, what the group becomes in the same commit. */
    closing?: (next: Notification[]) => NoticeGroup | null;
  },
): Promise<{ rows: Notification[]; closed: boolean }> {
  let pending = marks;
  for (let round = 0; round < MARK_ROUNDS && pending.length; round++) {
    const next = pending.map((m) =>
      afterOutcome(m.entry.value, m.outcome, { jitter, keepGroup }, now)
    );
    const reached = next.filter(mayHaveReached);
    // First try: the parents the claim read (the commit checks them, so
    // anything newer fails it and is read on the next try).
    const fromClaim = round === 0 && pending.every((m) => m.parents);
    const [targets, actions, existing] = fromClaim
      ? [
        new Map(
          pending.map((m) => [m.entry.value.targetId, m.parents!.target]),
        ),
        new Map(
          pending.map((m) => [m.entry.value.actionId, m.parents!.action]),
        ),
        // No cancellation row assumed; addNewRow checks that it is so.
        [] as Deno.KvEntryMaybe<string>[],
      ]
      : await Promise.all([
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
    const followUpExists = new Set(
      reached.filter((_, i) => existing[i]?.value).map((r) => r.id),
    );
    // Only a chunk marked whole on its first try closes the group with it.
    const closeTo = round === 0 && o.closing ? o.closing(next) : undefined;
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      const checked = new Set<string>();
      const checkOnce = (e: Deno.AtomicCheck) => {
        const id = e.key.join("\u0000");
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
        checkOnce(target);
        checkOnce(action);
        if (
          parentCancelled(action.value, target.value) &&
          !followUpExists.has(next[i].id)
        ) addNewRow(op, cancelledRowFor(next[i], now));
      });
      if (closeTo !== undefined) {
        putGroup(op.check(o.group), o.group.value, closeTo);
      }
      return op;
    });
    if (res.ok) return { rows: next, closed: closeTo !== undefined };
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
  return { rows: [], closed: false };
}
