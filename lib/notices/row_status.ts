/**
 * A notification row's status changes. `putRow` is the one place that writes
 * a row over its previous value, and it moves the due-index key with the
 * status in the same atomic operation (DESIGN rule 10): a row has a due key
 * exactly while it is pending. The action's and stage's counts of rows move
 * in the same operation too (counters.ts).
 */
import { backoffMs } from "../backoff.ts";
import { keys } from "../kv/keys.ts";
import { countRowChange } from "./counters.ts";
import type { DispatchOutcome, Notification } from "../types.ts";

const MAX_ERROR_CHARS = 1_000;

export const clipError = (s: string) =>
  s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS - 1)}…` : s;

/** Writes `next` in place of `prev` (null for a new row), moving its due key and its counts. */
export function putRow(
  op: Deno.AtomicOperation,
  prev: Notification | null,
  next: Notification,
): Deno.AtomicOperation {
  const samePendingKey = prev?.status === "pending" &&
    next.status === "pending" && prev.dueAt === next.dueAt;
  if (prev?.status === "pending" && !samePendingKey) {
    op.delete(keys.notificationDue(prev.dueAt, prev));
  }
  op.set(keys.notification(next.id), next);
  if (next.status === "pending" && !samePendingKey) {
    op.set(keys.notificationDue(next.dueAt, next), null);
  }
  return countRowChange(op, prev, next);
}

// One tick stamps many rows with the same time: format it once.
let lastAt = NaN;
let lastIso = "";
const iso = (at: number) => {
  if (at !== lastAt) {
    lastAt = at;
    lastIso = new Date(at).toISOString();
  }
  return lastIso;
};

/** pending → sending, held by a claim of a group. A claim counts as an attempt. */
export function asSending(
  row: Notification,
  hold: { groupId: string; claimId: string },
  at: number,
): Notification {
  return {
    ...row,
    status: "sending",
    groupId: hold.groupId,
    claimId: hold.claimId,
    attempts: row.attempts + 1,
    claimedAt: iso(at),
    updatedAt: iso(at),
  };
}

/** pending → sent by the claim itself (a channel with nothing to send). A claim counts as an attempt. */
export function asSentByClaim(
  row: Notification,
  detail: string,
  at: number,
): Notification {
  return asSent(
    { ...row, attempts: row.attempts + 1, claimedAt: iso(at) },
    at,
    detail,
  );
}

/**
 * Back to pending, due at `dueAt`. An email row stays in its group (its key);
 * other channels leave it and are grouped afresh.
 */
export function asPending(
  row: Notification,
  o: { dueAt: number; error: string; uncertain?: boolean; keepGroup: boolean },
  at: number,
): Notification {
  return {
    ...row,
    status: "pending",
    dueAt: o.dueAt,
    groupId: o.keepGroup ? row.groupId : null,
    claimId: null,
    deliveryUncertain: row.deliveryUncertain || o.uncertain === true,
    error: clipError(o.error),
    updatedAt: iso(at),
  };
}

export function asSent(
  row: Notification,
  at: number,
  detail?: string,
): Notification {
  return {
    ...row,
    status: "sent",
    claimId: null,
    sentAt: iso(at),
    error: null,
    detail: detail ? clipError(detail) : null,
    updatedAt: iso(at),
  };
}

export function asFailed(
  row: Notification,
  error: string,
  at: number,
): Notification {
  return {
    ...row,
    status: "failed",
    claimId: null,
    error: clipError(error),
    updatedAt: iso(at),
  };
}

/**
 * pending → failed because its owner turned the channel off: final, never
 * sent, shown as "turned off by the owner" rather than as an error.
 */
export function asTurnedOff(
  row: Notification,
  error: string,
  at: number,
): Notification {
  return { ...asFailed(row, error, at), turnedOff: true };
}

/**
 * Still pending, due when the owner's push quiet hours end (`dueAt`): the
 * due key moves with it (putRow), so the sweep meets it again then.
 */
export function asHeldForQuietHours(
  row: Notification,
  dueAt: number,
  at: number,
): Notification {
  return {
    ...row,
    dueAt,
    quietUntil: new Date(dueAt).toISOString(),
    updatedAt: iso(at),
  };
}

/**
 * A row that cannot be parsed, failed where it stands: what could be read of
 * it is kept beside the reason, and its due key (when `dueAt` still reads as
 * a time) goes with it. The caller also drops the key it found the row by.
 */
export function putDamagedRowFailed(
  op: Deno.AtomicOperation,
  id: string,
  raw: unknown,
  problem: string,
  now: number,
): Deno.AtomicOperation {
  const dueAt = (raw as { dueAt?: unknown } | null)?.dueAt;
  const base = typeof raw === "object" && raw !== null ? raw : { value: raw };
  op.set(keys.notification(id), {
    ...base,
    id,
    status: "failed",
    error: `notification row could not be read: ${problem}`,
    updatedAt: new Date(now).toISOString(),
  });
  const userId = (raw as { userId?: unknown } | null)?.userId;
  if (typeof dueAt === "number" && typeof userId === "string") {
    op.delete(keys.notificationDue(dueAt, { id, userId }));
  }
  // Counted where it stood, when enough of it can be read to know where.
  if (readableForCount(raw)) {
    const prev = { ...(raw as Notification), id };
    countRowChange(op, prev, { ...prev, status: "failed" });
  }
  return op;
}

function readableForCount(raw: unknown): boolean {
  const v = raw as Partial<Notification> | null;
  return typeof v === "object" && v !== null &&
    typeof v.actionId === "string" && Number.isInteger(v.stageIndex) &&
    typeof v.kind === "string" && typeof v.channel === "string" &&
    (v.status === "pending" || v.status === "sending");
}

export const MAX_ATTEMPTS = 5;
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 3_600_000;

/** The wait before a row's next try (`jitter` in [0, 1), one per group). */
export function retryDelayMs(
  attempts: number,
  jitter: number,
  retryAfterMs?: number,
): number {
  return backoffMs(attempts, {
    baseMs: RETRY_BASE_MS,
    maxMs: RETRY_MAX_MS,
    jitter,
    retryAfterMs,
  });
}

/** The row after a dispatch outcome: sent, failed, or pending again with backoff (until it gives up). */
export function afterOutcome(
  row: Notification,
  outcome: DispatchOutcome,
  o: { jitter: number; keepGroup: boolean },
  now: number,
): Notification {
  if (outcome.status === "sent") return asSent(row, now, outcome.detail);
  if (outcome.status === "failed") return asFailed(row, outcome.error, now);
  if (row.attempts >= MAX_ATTEMPTS) {
    return {
      ...asFailed(
        row,
        `gave up after ${row.attempts} attempts: ${outcome.error}`,
        now,
      ),
      deliveryUncertain: row.deliveryUncertain || outcome.uncertain === true,
    };
  }
  return asPending(row, {
    dueAt: now + retryDelayMs(row.attempts, o.jitter, outcome.retryAfterMs),
    error: outcome.error,
    uncertain: outcome.uncertain,
    keepGroup: o.keepGroup,
  }, now);
}
