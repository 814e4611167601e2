/**
 * Claiming due rows (pending → sending) and finalizing rows that must not be
 * sent. Many rows share one atomic operation, within KV's 100-check limit.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import type { ParentEntries } from "./parents.ts";
import type { Notification } from "../types.ts";

const MAX_CHECKS = 100;
/** Each claim writes the row, drops its due key and adds its sending key. */
const MUTATIONS_PER_CLAIM = 3;
const MAX_MUTATIONS = 1000;

export interface ClaimCandidate {
  entry: Deno.KvEntry<Notification>;
  parents: ParentEntries;
}

export interface ClaimedRow {
  /** The row as claimed, with the versionstamp the claim wrote. */
  entry: Deno.KvEntry<Notification>;
  parents: ParentEntries;
}

function asClaimed(row: Notification, at: number): Notification {
  const iso = new Date(at).toISOString();
  // A claim counts as an attempt, so a row that crashes the sweep every time
  // (recovered again and again) still gives up after MAX_ATTEMPTS.
  return {
    ...row,
    status: "sending",
    attempts: row.attempts + 1,
    claimedAt: iso,
    updatedAt: iso,
  };
}

/** The versioned keys a claim must check: the row, and for notices its target, stage and action (DESIGN rule 2). */
function checksFor(c: ClaimCandidate): Deno.AtomicCheck[] {
  const checks: Deno.AtomicCheck[] = [c.entry];
  if (c.entry.value.kind === "notice") {
    checks.push(c.parents.target, c.parents.stage, c.parents.action);
  }
  return checks;
}

const checkId = (c: Deno.AtomicCheck) => JSON.stringify(c.key);

/**
 * Claims candidates in as few atomic operations as the limits allow. A chunk
 * whose commit fails (another sweep claimed a row, or a cancel or the apply
 * path changed a parent) is returned whole in `lost` for the caller to
 * re-read and re-judge.
 */
export async function commitClaims(
  kv: Deno.Kv,
  candidates: ClaimCandidate[],
  claimedAtMs: number,
): Promise<{ claimed: ClaimedRow[]; lost: ClaimCandidate[] }> {
  const chunks: ClaimCandidate[][] = [];
  let chunk: ClaimCandidate[] = [];
  let seen = new Set<string>();
  for (const c of candidates) {
    const fresh = checksFor(c).filter((k) => !seen.has(checkId(k)));
    if (
      chunk.length &&
      (seen.size + fresh.length > MAX_CHECKS ||
        (chunk.length + 1) * MUTATIONS_PER_CLAIM > MAX_MUTATIONS)
    ) {
      chunks.push(chunk);
      chunk = [];
      seen = new Set();
    }
    for (const k of checksFor(c)) seen.add(checkId(k));
    chunk.push(c);
  }
  if (chunk.length) chunks.push(chunk);

  const claimed: ClaimedRow[] = [];
  const lost: ClaimCandidate[] = [];
  for (const part of chunks) {
    const rows = part.map((c) => asClaimed(c.entry.value, claimedAtMs));
    // A commit that keeps failing ("database is locked" past its retries) is a lost claim: nothing moved.
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      const checked = new Set<string>();
      for (const c of part) {
        for (const k of checksFor(c)) {
          if (checked.has(checkId(k))) continue;
          checked.add(checkId(k));
          op.check(k);
        }
      }
      part.forEach((c, i) => {
        const row = rows[i];
        op.set(keys.notification(row.id), row)
          .delete(keys.notificationDue(c.entry.value.dueAt, row.id))
          .set(keys.notificationSending(claimedAtMs, row.id), null);
      });
      return op;
    }).catch(() => null);
    if (res?.ok) {
      part.forEach((c, i) =>
        claimed.push({
          entry: {
            key: c.entry.key,
            value: rows[i],
            versionstamp: res.versionstamp,
          },
          parents: c.parents,
        })
      );
    } else {
      lost.push(...part);
    }
  }
  return { claimed, lost };
}

/**
 * Moves pending rows straight to failed (stale parents, orphans, bad rows),
 * each checked by versionstamp. Returns how many were finalized; a row
 * changed meanwhile is left for the next sweep to judge.
 */
export async function commitFinalFailures(
  kv: Deno.Kv,
  failures: { entry: Deno.KvEntry<Notification>; error: string }[],
  now: number,
): Promise<number> {
  const at = new Date(now).toISOString();
  let done = 0;
  for (let i = 0; i < failures.length; i += MAX_CHECKS) {
    const part = failures.slice(i, i + MAX_CHECKS);
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const { entry, error } of part) {
        op.check(entry)
          .set(
            entry.key,
            {
              ...entry.value,
              status: "failed",
              error,
              updatedAt: at,
            } satisfies Notification,
          )
          .delete(keys.notificationDue(entry.value.dueAt, entry.value.id));
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
