/**
 * The notice sweep, run every minute by `Deno.cron` and on demand by the
 * admin button. One pass: recover rows stuck in `sending`, then walk the due
 * index oldest first, page by page — finalize rows whose parents moved on,
 * claim the rest, dispatch them, mark them. Its cost follows the rows due,
 * never the rows stored (DESIGN rule 8).
 *
 * Overlapping sweeps (the cron and the button, or two processes on one KV)
 * are safe: a row is dispatched only by the sweep whose claim committed.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { CANCELLED_BEFORE_DISPATCH, rowProblem } from "./rows.ts";
import { recoverStuckRows } from "./recover.ts";
import {
  type ClaimCandidate,
  commitClaims,
  commitFinalFailures,
} from "./claim.ts";
import {
  actionWriteState,
  isActionVisible,
  noticeMayFire,
  ORPHAN_AFTER_MS,
  PARENT_CHANGED,
  parentCancelled,
  readParents,
} from "./parents.ts";
import { fixEmailBatches } from "./batches.ts";
import { buildItems } from "./items.ts";
import { type DispatchGroup, runDispatches } from "./dispatch.ts";
import { commitMarks, type Mark } from "./mark.ts";
import { getManyChunked } from "../kv/read.ts";
import { newId } from "../ids.ts";
import type { Dispatchers, NoticeItem } from "../channels/types.ts";
import type { Notification, SweepRun } from "../types.ts";

export type SweepLog = (
  message: string,
  data?: Record<string, unknown>,
) => void;

export interface SweepDeps {
  kv: Deno.Kv;
  dispatchers: Dispatchers;
  now: () => number;
  log?: SweepLog;
}

export interface SweepOptions {
  /** Per dispatch group; a slow upstream cannot stall the tick (default 10 s). */
  dispatchTimeoutMs?: number;
  /** Dispatch groups in flight at once (default 10). */
  concurrency?: number;
  /** Due-index keys read per page (default 500). */
  pageSize?: number;
  /** How long a row may stay in `sending` before recovery (default 5 min). */
  recoveryMs?: number;
  /** Stop starting new pages after this long; the next tick goes on (default 45 s). */
  budgetMs?: number;
}

export interface SweepReport extends SweepRun {
  /** Rows that failed transiently and went back to pending with backoff. */
  retried: number;
  /** Due rows left alone because their schedule write is still in progress. */
  deferred: number;
  /** Rows whose outcome could not be recorded; recovery returns them to pending. */
  unmarked: number;
  /** Pages abandoned on an unexpected error (logged); their rows wait for the next tick. */
  errors: number;
}

const CLAIM_ROUNDS = 3;

interface Tally {
  processed: number;
  sent: number;
  failed: number;
  retried: number;
  voidedStale: number;
  deferred: number;
  unmarked: number;
  errors: number;
}

export async function sweep(
  deps: SweepDeps,
  opts: SweepOptions = {},
): Promise<SweepReport> {
  const { kv } = deps;
  const pageSize = opts.pageSize ?? 500;
  const budgetMs = opts.budgetMs ?? 45_000;
  const startedAtMs = deps.now();
  const clock = performance.now();

  const recovery = await recoverStuckRows(
    kv,
    startedAtMs,
    opts.recoveryMs ?? 300_000,
  );
  const tally: Tally = {
    processed: 0,
    sent: 0,
    failed: recovery.failed,
    retried: 0,
    voidedStale: 0,
    deferred: 0,
    unmarked: 0,
    errors: 0,
  };

  // Rows coming due while the sweep runs wait for the next tick; retries are
  // always pushed at least half a base delay ahead, so they are never re-read here.
  const selector = {
    prefix: keys.notificationsDue(),
    end: [...keys.notificationsDue(), startedAtMs + 1],
  };
  let cursor: string | undefined;
  while (performance.now() - clock < budgetMs) {
    const iter = kv.list(selector, { limit: pageSize, cursor });
    const dueKeys: Deno.KvKey[] = [];
    for await (const e of iter) dueKeys.push(e.key);
    if (!dueKeys.length) break;
    cursor = iter.cursor;
    try {
      await sweepPage(deps, opts, dueKeys, startedAtMs, tally);
    } catch (err) {
      // Whatever this page claimed stays in `sending` and is recovered later;
      // the next page still gets its turn (DESIGN rule 7).
      tally.errors++;
      deps.log?.("notice sweep page failed", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    if (dueKeys.length < pageSize) break;
  }

  const durationMs = Math.round(performance.now() - clock);
  const report: SweepReport = {
    processed: tally.processed,
    sent: tally.sent,
    failed: tally.failed,
    recovered: recovery.recovered,
    voidedStale: tally.voidedStale,
    retried: tally.retried,
    deferred: tally.deferred,
    unmarked: tally.unmarked,
    errors: tally.errors,
    startedAt: new Date(startedAtMs).toISOString(),
    finishedAt: new Date(startedAtMs + durationMs).toISOString(),
    durationMs,
  };
  try {
    await commitRetrying(() => kv.atomic().set(keys.sweepLastRun(), report));
  } catch (err) {
    deps.log?.("could not store the sweep's last run", { error: String(err) });
  }
  deps.log?.("notice sweep finished", { ...report });
  return report;
}

/** The last stored run, for `GET /api/admin/notices/last-run` and the admin page. */
export async function getLastSweepRun(
  kv: Deno.Kv,
): Promise<SweepReport | null> {
  return (await kv.get<SweepReport>(keys.sweepLastRun())).value;
}

type Verdict =
  | { kind: "claim" }
  | { kind: "defer" }
  | { kind: "void"; error: string }
  | { kind: "orphan" };

function judge(c: ClaimCandidate, tickAt: number): Verdict {
  const row = c.entry.value;
  const { action, stage, target } = c.parents;
  if (!isActionVisible(action)) {
    return tickAt - Date.parse(row.createdAt) > ORPHAN_AFTER_MS
      ? { kind: "orphan" }
      : { kind: "defer" };
  }
  // A cancellation announces itself whatever its parents became (DESIGN rule 1).
  if (row.kind === "cancelled") return { kind: "claim" };
  // A whole cancel marks the action first and skips its targets after; a
  // notice met in between reads as the cancel it is.
  if (parentCancelled(action.value, target.value)) {
    // A row that may have arrived already: the cancel path fails it and
    // queues its cancellation (addCancelMutations), so leave it to that path.
    if (row.deliveryUncertain) return { kind: "defer" };
    return { kind: "void", error: CANCELLED_BEFORE_DISPATCH };
  }
  if (
    !stage.value || !target.value ||
    !noticeMayFire(action.value, stage.value, target.value)
  ) {
    return { kind: "void", error: PARENT_CHANGED };
  }
  return { kind: "claim" };
}

/** Orphan candidates whose schedule write the scheduler counts as abandoned. */
async function abandonedOrphans(
  kv: Deno.Kv,
  orphans: Deno.KvEntry<Notification>[],
  now: number,
): Promise<{ entry: Deno.KvEntry<Notification>; error: string }[]> {
  const states = new Map<string, string>();
  for (const actionId of new Set(orphans.map((o) => o.value.actionId))) {
    states.set(actionId, await actionWriteState(kv, actionId, now));
  }
  return orphans.filter((o) => states.get(o.value.actionId) === "abandoned")
    .map((entry) => ({
      entry,
      error:
        `action ${entry.value.actionId} was never fully written (orphaned row)`,
    }));
}

/**
 * Reads rows by id and keeps those pending and due. A row that cannot be
 * parsed is failed on its own (DESIGN rule 7). With `dueKeys`, each row must
 * also match the due key it was found by; keys that match nothing are
 * debris, removed under a check of the row they point at.
 */
async function readCandidates(
  kv: Deno.Kv,
  ids: string[],
  tickAt: number,
  tally: Tally,
  now: number,
  dueKeys?: Deno.KvKey[],
): Promise<Deno.KvEntry<Notification>[]> {
  const entries = await getManyChunked<Notification>(
    kv,
    ids.map((id) => keys.notification(id)),
  );
  const out: Deno.KvEntry<Notification>[] = [];
  const debris: { key: Deno.KvKey; row: Deno.AtomicCheck }[] = [];
  for (const [i, e] of entries.entries()) {
    const dueKey = dueKeys?.[i];
    if (e.value !== null) {
      const problem = rowProblem(e.value);
      // A damaged row already failed is only debris now (its due key goes below).
      if (problem && (e.value as { status?: unknown }).status !== "failed") {
        tally.processed++;
        if (await failDamagedRow(kv, e, problem, now, dueKey)) tally.failed++;
        continue;
      }
      if (problem) {
        if (dueKey) debris.push({ key: dueKey, row: e });
        continue;
      }
      const row = e.value;
      if (
        row.status === "pending" && row.dueAt <= tickAt &&
        (!dueKey || dueKey[1] === row.dueAt)
      ) {
        out.push(e as Deno.KvEntry<Notification>);
        continue;
      }
    }
    if (dueKey) debris.push({ key: dueKey, row: e });
  }
  for (let i = 0; i < debris.length; i += 100) {
    const part = debris.slice(i, i + 100);
    // Checked so a key recovery just re-added for a live row is never dropped.
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const d of part) op.check(d.row).delete(d.key);
      return op;
    });
  }
  return out;
}

/** A row that cannot be parsed is failed where it stands; its due key goes with it. */
async function failDamagedRow(
  kv: Deno.Kv,
  entry: Deno.KvEntryMaybe<Notification>,
  problem: string,
  now: number,
  /** The due key the row was found by: the damage may be in `dueAt` itself. */
  dueKey?: Deno.KvKey,
): Promise<boolean> {
  const id = entry.key[1] as string;
  const raw = entry.value as unknown;
  const dueAt = (raw as { dueAt?: unknown }).dueAt;
  const base = typeof raw === "object" && raw !== null ? raw : { value: raw };
  const res = await commitRetrying(() => {
    const op = kv.atomic().check(entry).set(entry.key, {
      ...base,
      id,
      status: "failed",
      error: `notification row could not be read: ${problem}`,
      updatedAt: new Date(now).toISOString(),
    });
    if (typeof dueAt === "number") op.delete(keys.notificationDue(dueAt, id));
    if (dueKey) op.delete(dueKey);
    return op;
  });
  return res.ok;
}

async function sweepPage(
  deps: SweepDeps,
  opts: SweepOptions,
  dueKeys: Deno.KvKey[],
  tickAt: number,
  tally: Tally,
): Promise<void> {
  const { kv } = deps;
  const now = deps.now();
  let rows = await readCandidates(
    kv,
    dueKeys.map((k) => k[2] as string),
    tickAt,
    tally,
    now,
    dueKeys,
  );
  rows = [...rows, ...await batchMates(kv, rows, tally, now)];

  const claimed = [];
  const claimedAt = now;
  for (let round = 0; round < CLAIM_ROUNDS && rows.length; round++) {
    const parents = await readParents(kv, rows.map((r) => r.value));
    const toClaim: ClaimCandidate[] = [];
    const voided: { entry: Deno.KvEntry<Notification>; error: string }[] = [];
    const orphaned: Deno.KvEntry<Notification>[] = [];
    for (const entry of rows) {
      const c = { entry, parents: parents.get(entry.value.id)! };
      const verdict = judge(c, tickAt);
      if (verdict.kind === "claim") toClaim.push(c);
      else if (verdict.kind === "void") {
        voided.push({ entry, error: verdict.error });
      } else if (verdict.kind === "orphan") orphaned.push(entry);
      else if (round === 0) tally.deferred++;
    }
    tally.voidedStale += await commitFinalFailures(kv, voided, now);
    const abandoned = await abandonedOrphans(kv, orphaned, now);
    if (round === 0) tally.deferred += orphaned.length - abandoned.length;
    const orphans = await commitFinalFailures(kv, abandoned, now);
    tally.failed += orphans;
    tally.processed += orphans;

    const result = await commitClaims(kv, toClaim, claimedAt);
    claimed.push(...result.claimed);
    if (!result.lost.length) break;
    // Re-read what was lost: rows another sweep took are no longer pending and drop out.
    rows = await readCandidates(
      kv,
      result.lost.map((c) => c.entry.value.id),
      tickAt,
      tally,
      now,
    );
  }
  if (!claimed.length) return;

  const batched = await fixEmailBatches(
    kv,
    claimed,
    deps.dispatchers.email.maxGroupSize,
  );
  tally.unmarked += claimed.length - batched.ready.length;
  const ready = batched.ready;
  tally.processed += ready.length;

  const { items, failures } = await buildItems(kv, ready);
  const groups: DispatchGroup[] = [];
  for (const [groupKey, members] of groupByDispatch(items, batched.groupOf)) {
    const channel = members[0].notification.channel;
    const size = Math.max(1, deps.dispatchers[channel].maxGroupSize);
    for (let i = 0; i < members.length; i += size) {
      groups.push({
        channel,
        groupId: channel === "email" ? groupKey : newId(),
        items: members.slice(i, i + size),
      });
    }
  }
  const outcomes = await runDispatches(deps.dispatchers, groups, {
    timeoutMs: opts.dispatchTimeoutMs ?? 10_000,
    concurrency: opts.concurrency ?? 10,
  });
  for (const f of failures) {
    outcomes.set(f.id, { status: "failed", error: f.error });
  }

  const jitterOf = new Map<string, number>();
  for (const g of groups) {
    const jitter = Math.random();
    for (const item of g.items) jitterOf.set(item.notification.id, jitter);
  }
  const marks: Mark[] = ready.map((claimedRow) => ({
    claimed: claimedRow,
    outcome: outcomes.get(claimedRow.entry.value.id) ??
      { status: "retry", error: "row was not dispatched" },
    jitter: jitterOf.get(claimedRow.entry.value.id) ?? Math.random(),
  }));
  const counts = await commitMarks(kv, marks, deps.now(), deps.log);
  tally.sent += counts.sent;
  tally.failed += counts.failed;
  tally.retried += counts.retried;
  tally.unmarked += counts.unmarked;
}

/** Email rows go out in their fixed batch; other channels group by channel. */
function groupByDispatch(
  items: NoticeItem[],
  groupOf: Map<string, string>,
): Map<string, NoticeItem[]> {
  const groups = new Map<string, NoticeItem[]>();
  for (const item of items) {
    const n = item.notification;
    const key = n.channel === "email" ? groupOf.get(n.id)! : n.channel;
    const list = groups.get(key) ?? [];
    list.push(item);
    groups.set(key, list);
  }
  return groups;
}

/**
 * Members of a retried email batch that the page boundary left out. A batch
 * goes out again whole so the provider can replay it under the same key.
 */
async function batchMates(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  tally: Tally,
  now: number,
): Promise<Deno.KvEntry<Notification>[]> {
  const inPage = new Set(rows.map((r) => r.value.id));
  const batchIds = [
    ...new Set(rows.flatMap((r) => r.value.batchId ? [r.value.batchId] : [])),
  ];
  if (!batchIds.length) return [];
  const batches = await getManyChunked<string[]>(
    kv,
    batchIds.map((id) => keys.emailBatch(id)),
  );
  const missing = batches.flatMap((b) =>
    (b.value ?? []).filter((id) => !inPage.has(id))
  );
  if (!missing.length) return [];
  // Mates go out with the batch even before their own backoff ends: members
  // with different attempt counts back off differently, and a batch split by
  // that would go out under a new idempotency key (DESIGN rule 5).
  return await readCandidates(
    kv,
    [...new Set(missing)],
    Number.POSITIVE_INFINITY,
    tally,
    now,
  );
}
