/**
 * Recording what a dispatch did: sent, failed, or back to pending for a
 * retry with backoff. A notice marked sent after its action or target was
 * cancelled queues its `cancelled` row in the same commit (DESIGN rule 4).
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { addNewRow, cancelledRowFor } from "./rows.ts";
import { parentCancelled } from "./parents.ts";
import { getManyById, getManyChunked } from "../kv/read.ts";
import type { DispatchOutcome } from "../channels/types.ts";
import type { ClaimedRow } from "./claim.ts";
import type { Notification, ScheduledAction, Target } from "../types.ts";

export const MAX_ATTEMPTS = 5;
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 3_600_000;
const MAX_ERROR_CHARS = 1_000;
/** 25 rows × (row + target + cancelled index + action) stays within 100 checks. */
const MARK_CHUNK = 25;
const MARK_ROUNDS = 5;

/**
 * Exponential backoff with jitter (`jitter` in [0, 1) spreads the wait over
 * its upper half), never sooner than the upstream's Retry-After.
 */
export function retryDelayMs(
  attempts: number,
  jitter: number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(
    RETRY_MAX_MS,
    RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1),
  );
  return Math.max(Math.round(ceiling * (0.5 + jitter / 2)), retryAfterMs ?? 0);
}

export interface Mark {
  claimed: ClaimedRow;
  outcome: DispatchOutcome;
  /** Shared by a dispatch group so its rows come due again together. */
  jitter: number;
}

export interface MarkCounts {
  sent: number;
  failed: number;
  retried: number;
  /** Rows left in `sending` (marking kept failing); recovery returns them to pending. */
  unmarked: number;
}

const clip = (s: string) =>
  s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS - 1)}…` : s;

function nextRow(
  row: Notification,
  outcome: DispatchOutcome,
  jitter: number,
  now: number,
): Notification {
  const at = new Date(now).toISOString();
  if (outcome.status === "sent") {
    return { ...row, status: "sent", sentAt: at, error: null, updatedAt: at };
  }
  if (outcome.status === "failed") {
    return {
      ...row,
      status: "failed",
      error: clip(outcome.error),
      updatedAt: at,
    };
  }
  if (row.attempts >= MAX_ATTEMPTS) {
    return {
      ...row,
      status: "failed",
      error: clip(`gave up after ${row.attempts} attempts: ${outcome.error}`),
      updatedAt: at,
    };
  }
  return {
    ...row,
    status: "pending",
    deliveryUncertain: row.deliveryUncertain || outcome.uncertain === true,
    dueAt: now + retryDelayMs(row.attempts, jitter, outcome.retryAfterMs),
    error: clip(outcome.error),
    updatedAt: at,
  };
}

/** Marks every row, in chunks; a chunk that fails is re-read and tried again. */
export async function commitMarks(
  kv: Deno.Kv,
  marks: Mark[],
  now: number,
  log?: (message: string, data?: Record<string, unknown>) => void,
): Promise<MarkCounts> {
  const counts: MarkCounts = { sent: 0, failed: 0, retried: 0, unmarked: 0 };
  const tally = (done: Notification[]) => {
    for (const row of done) {
      if (row.status === "sent") counts.sent++;
      else if (row.status === "failed") counts.failed++;
      else counts.retried++;
    }
  };
  for (let i = 0; i < marks.length; i += MARK_CHUNK) {
    const part = marks.slice(i, i + MARK_CHUNK);
    try {
      const done = await markChunk(kv, part, now);
      tally(done);
      counts.unmarked += part.length - done.length;
      continue;
    } catch (err) {
      log?.("notice marking failed; marking rows one by one", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    // One row that cannot be written must not leave its siblings in `sending`.
    for (const mark of part) {
      try {
        const done = await markChunk(kv, [mark], now);
        tally(done);
        counts.unmarked += 1 - done.length;
      } catch (err) {
        // Left in `sending`; recovery brings it back after its threshold.
        counts.unmarked++;
        log?.("notice marking failed", {
          id: mark.claimed.entry.value.id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
  return counts;
}

async function markChunk(
  kv: Deno.Kv,
  marks: Mark[],
  now: number,
): Promise<Notification[]> {
  let pending = marks.map((m) => ({ ...m, entry: m.claimed.entry }));
  const done: Notification[] = [];
  for (let round = 0; round < MARK_ROUNDS && pending.length; round++) {
    const sentNotices = pending.filter((m) =>
      m.outcome.status === "sent" && m.entry.value.kind === "notice"
    ).map((m) => m.entry.value);
    const [targets, actions, cancelledIdx] = await Promise.all([
      getManyById<Target>(kv, sentNotices.map((r) => r.targetId), keys.target),
      getManyById<ScheduledAction>(
        kv,
        sentNotices.map((r) => r.actionId),
        keys.action,
      ),
      getManyChunked<string>(
        kv,
        sentNotices.map((r) =>
          keys.notificationByTarget(r.targetId, "cancelled", r.channel)
        ),
      ),
    ]);
    const followUpExists = new Map(
      sentNotices.map((r, i) => [r.id, cancelledIdx[i]]),
    );
    const next = pending.map((m) =>
      nextRow(m.entry.value, m.outcome, m.jitter, now)
    );
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      const checked = new Set<string>();
      const checkOnce = (e: Deno.AtomicCheck) => {
        const id = JSON.stringify(e.key);
        if (!checked.has(id)) op.check(e);
        checked.add(id);
      };
      pending.forEach((m, i) => {
        const row = m.entry.value;
        checkOnce(m.entry);
        op.set(keys.notification(row.id), next[i])
          .delete(
            keys.notificationSending(Date.parse(row.claimedAt!), row.id),
          );
        if (next[i].status === "pending") {
          op.set(keys.notificationDue(next[i].dueAt, row.id), null);
        }
        if (m.outcome.status !== "sent" || row.kind !== "notice") return;
        // Checking the parents makes a cancel that lands between this read and
        // the commit fail the commit, so the follow-up is never missed.
        const target = targets.get(row.targetId)!;
        const action = actions.get(row.actionId)!;
        const idx = followUpExists.get(row.id)!;
        checkOnce(target);
        checkOnce(action);
        checkOnce(idx);
        if (parentCancelled(action.value, target.value) && !idx.value) {
          addNewRow(op, cancelledRowFor(next[i], now));
        }
      });
      return op;
    });
    if (res.ok) {
      done.push(...next);
      return done;
    }
    // Something moved: keep only rows still in our claim, with fresh versionstamps.
    const fresh = await getManyChunked<Notification>(
      kv,
      pending.map((m) => m.entry.key),
    );
    pending = pending.flatMap((m, i) => {
      const cur = fresh[i];
      const ours = cur.value?.status === "sending" &&
        cur.value.claimedAt === m.entry.value.claimedAt;
      return ours ? [{ ...m, entry: cur as Deno.KvEntry<Notification> }] : [];
    });
  }
  return done;
}
