/**
 * The notice sweep, run every minute by `Deno.cron` and on demand by the
 * admin button. One pass: recover groups whose lease ended, then walk the
 * due index oldest first, page by page, gathering rows into dispatch groups;
 * each group is claimed (rows whose parents moved on are finalized), sent and
 * marked on its own. Its cost follows the rows due, never the rows stored
 * (DESIGN rule 8).
 *
 * Overlapping sweeps (the cron and the button, or two processes on one KV)
 * are safe: a row is dispatched only by the sweep whose claim committed.
 */
import { bundleCut } from "../channels/bundle.ts";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { rowProblem } from "./rows.ts";
import { recoverGroups } from "./recover.ts";
import { claimGroup, type GroupPlan } from "./claim.ts";
import { buildItems } from "./items.ts";
import { sendGroup } from "./dispatch.ts";
import { commitPool } from "../scheduler/commits.ts";
import { settleGroup } from "./mark.ts";
import { MAX_GROUP_SIZE, openIn } from "./groups.ts";
import {
  getManyById,
  getManyChunked,
  getManyNearby,
  type SharedReads,
  sharedReads,
} from "../kv/read.ts";
import type { Dispatchers, NoticeItem } from "../channels/types.ts";
import type { Channel, NoticeGroup, Notification, SweepRun } from "../types.ts";
import { recordNoticeRows } from "../telemetry.ts";

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
  /** Per dispatch group; a slow upstream cannot stall the tick (default 10 s, at most half the lease). */
  dispatchTimeoutMs?: number;
  /** Groups claimed, sent and marked at once (default 10). */
  concurrency?: number;
  /** Due-index keys read per page (default 500). */
  pageSize?: number;
  /** How long a claim holds its rows before recovery may take them (default 60 s). */
  leaseMs?: number;
  /** Stop starting new pages after this long; the next tick goes on (default 45 s). */
  budgetMs?: number;
  /** Read at most this many pages of due rows in one sweep (default: as many as the budget allows). */
  maxPages?: number;
}

export interface SweepReport extends SweepRun {
  /** Rows that failed transiently and went back to pending with backoff. */
  retried: number;
  /** Due rows left alone (their schedule write is still in progress, or another sweep holds their group). */
  deferred: number;
  /** Rows whose outcome could not be recorded; recovery finishes them after the lease. */
  unmarked: number;
  /** Pages or groups abandoned on an unexpected error (logged); their rows wait for the next tick or their lease. */
  errors: number;
  /** Rows whose claim was lost to another sweep, a cancel or the apply (then judged again). */
  claimsLost: number;
}

interface Tally {
  claimsLost: number;
  processed: number;
  sent: number;
  failed: number;
  retried: number;
  voidedStale: number;
  deferred: number;
  unmarked: number;
  errors: number;
}

export const DEFAULT_LEASE_MS = 60_000;

export async function sweep(
  deps: SweepDeps,
  opts: SweepOptions = {},
): Promise<SweepReport> {
  const { kv } = deps;
  const pageSize = opts.pageSize ?? 500;
  const budgetMs = opts.budgetMs ?? 45_000;
  const startedAtMs = deps.now();
  const clock = performance.now();

  const recovery = await recoverGroups(kv, startedAtMs);
  const tally: Tally = {
    claimsLost: 0,
    processed: recovery.sent + recovery.failed,
    sent: recovery.sent,
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
  // Groups, not pages, are the unit of work: rows are read page by page and
  // gathered per channel into full groups, each claimed, sent and marked on
  // its own while the next are gathered, so the provider's rate is the only
  // limit. The pool's width holds the reading back to what is being sent.
  const pool = commitPool(Math.max(1, opts.concurrency ?? 10));
  const run = (plan: GroupPlan, reads: SharedReads) =>
    pool.add(() =>
      processGroup(deps, opts, plan, tally, reads).catch((err) => {
        // Whatever this group holds is recovered after its lease; the rest of
        // the tick goes on (DESIGN rule 7).
        tally.errors++;
        deps.log?.("notice group failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      })
    );
  const gathering = new Map<Channel, Deno.KvEntry<Notification>[]>();
  const sizeOf = (c: Channel) =>
    Math.max(1, Math.min(MAX_GROUP_SIZE, deps.dispatchers[c].maxGroupSize));
  let cursor: string | undefined;
  let pages = 0;
  let reads = sharedReads(kv);
  while (
    performance.now() - clock < budgetMs &&
    pages++ < (opts.maxPages ?? Infinity)
  ) {
    const iter = kv.list(selector, { limit: pageSize, cursor });
    const dueKeys: Deno.KvKey[] = [];
    for await (const e of iter) dueKeys.push(e.key);
    if (!dueKeys.length) break;
    cursor = iter.cursor;
    // The groups cut from this page (one per channel for the same owners)
    // read each owner and instance once between them.
    reads = sharedReads(kv);
    try {
      const rows = await readDueRows(
        kv,
        dueKeys,
        startedAtMs,
        tally,
        deps.now(),
      );
      const { retakes, fresh } = await planGroups(kv, rows, tally);
      for (const plan of retakes) await run(plan, reads);
      for (const row of fresh) {
        const channel = row.value.channel;
        const list = gathering.get(channel) ?? [];
        list.push(row);
        gathering.set(channel, list);
        if (list.length >= sizeOf(channel)) {
          // An owner's rows stay in one group: one message per owner (bundle.ts).
          const cut = bundleCut(list.map((r) => r.value), sizeOf(channel));
          await run(
            { channel, group: null, rows: list.splice(0, cut) },
            reads,
          );
        }
      }
    } catch (err) {
      // A page that cannot be read is left for the next tick (DESIGN rule 7).
      tally.errors++;
      deps.log?.("notice sweep page failed", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    if (dueKeys.length < pageSize) break;
  }
  for (const [channel, list] of gathering) {
    if (list.length) await run({ channel, group: null, rows: list }, reads);
  }
  await pool.drain();

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
    claimsLost: tally.claimsLost,
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

/** One group: claim it, send it, mark it. */
async function processGroup(
  deps: SweepDeps,
  opts: SweepOptions,
  plan: GroupPlan,
  tally: Tally,
  reads: SharedReads,
): Promise<void> {
  const { kv } = deps;
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const held = await claimGroup(kv, plan, { now: deps.now(), leaseMs, tally });
  if (!held) return;
  tally.processed += held.rows.length;
  const { items, failures } = await buildItems(kv, held.rows, reads);
  const itemOf = new Map<string, NoticeItem | { error: string }>([
    ...items.map((i) => [i.notification.id, i] as const),
    ...failures.map((f) => [f.id, { error: f.error }] as const),
  ]);
  const { outcomes } = await sendGroup(kv, deps.dispatchers, held, itemOf, {
    timeoutMs: Math.min(opts.dispatchTimeoutMs ?? 10_000, leaseMs / 2),
    leaseMs,
    now: deps.now,
  });
  if (!outcomes) {
    tally.unmarked += held.rows.length;
    return;
  }
  const counts = await settleGroup(
    kv,
    held.group,
    held.rows.map((r) => ({
      entry: r.entry,
      outcome: outcomes.get(r.entry.value.id)!,
      parents: { target: r.parents.target, action: r.parents.action },
    })),
    deps.now(),
    deps.log,
  );
  tally.sent += counts.sent;
  tally.failed += counts.failed;
  tally.retried += counts.retried;
  tally.unmarked += counts.unmarked;
}

/**
 * Rows due now: a row waiting in an email group brings the whole group (all
 * its open members, under the same key); the rest are fresh, to be gathered
 * into new groups.
 */
async function planGroups(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  tally: Tally,
): Promise<{ retakes: GroupPlan[]; fresh: Deno.KvEntry<Notification>[] }> {
  const groups = await getManyById<NoticeGroup>(
    kv,
    rows.flatMap((r) => r.value.groupId ? [r.value.groupId] : []),
    keys.noticeGroup,
  );
  const retakes: GroupPlan[] = [];
  const fresh: Deno.KvEntry<Notification>[] = [];
  const taken = new Set<string>();
  for (const r of rows) {
    const g = r.value.groupId ? groups.get(r.value.groupId) : undefined;
    if (!g?.value || !openIn(g.value, r.value)) {
      fresh.push(r);
      continue;
    }
    if (g.value.state !== "waiting") {
      // Held by another sweep, or its lease ended and recovery will hand it back.
      tally.deferred++;
      continue;
    }
    if (taken.has(g.value.id)) continue;
    taken.add(g.value.id);
    const members = await getManyChunked<Notification>(
      kv,
      g.value.members.map((id) => keys.notification(id)),
    );
    retakes.push({
      channel: g.value.channel,
      group: g as Deno.KvEntry<NoticeGroup>,
      rows: members.filter((m): m is Deno.KvEntry<Notification> =>
        m.value?.status === "pending" && m.value.groupId === g.value!.id
      ),
    });
  }
  return { retakes, fresh };
}

/**
 * Reads the rows behind due keys and keeps those pending and due. A row that
 * cannot be parsed is failed on its own (DESIGN rule 7); keys that match no
 * pending row are debris, removed under a check of the row they point at.
 */
async function readDueRows(
  kv: Deno.Kv,
  dueKeys: Deno.KvKey[],
  tickAt: number,
  tally: Tally,
  now: number,
): Promise<Deno.KvEntry<Notification>[]> {
  // Rows written together sit side by side: one range read finds most.
  const entries = await getManyNearby<Notification>(
    kv,
    keys.notifications(),
    dueKeys.map((k) => k[2] as string),
  );
  const out: Deno.KvEntry<Notification>[] = [];
  const debris: { key: Deno.KvKey; row: Deno.AtomicCheck }[] = [];
  for (const [i, e] of entries.entries()) {
    const dueKey = dueKeys[i];
    if (e.value !== null) {
      const problem = rowProblem(e.value);
      // A damaged row already failed is only debris now (its due key goes below).
      if (problem && (e.value as { status?: unknown }).status !== "failed") {
        tally.processed++;
        if (await failDamagedRow(kv, e, problem, now, dueKey)) tally.failed++;
        continue;
      }
      const row = e.value;
      if (
        !problem && row.status === "pending" && row.dueAt <= tickAt &&
        dueKey[1] === row.dueAt
      ) {
        out.push(e as Deno.KvEntry<Notification>);
        continue;
      }
    }
    debris.push({ key: dueKey, row: e });
  }
  for (let i = 0; i < debris.length; i += 100) {
    const part = debris.slice(i, i + 100);
    // Checked so a key just re-added for a live row is never dropped.
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
  dueKey: Deno.KvKey,
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
    op.delete(dueKey);
    return op;
  });
  if (res.ok) recordNoticeRows(damagedChannel(raw), "failed", 1);
  return res.ok;
}

/** A damaged row's channel, when it still names one. */
function damagedChannel(raw: unknown): string {
  const c = (raw as { channel?: unknown } | null)?.channel;
  return c === "email" || c === "webapp" || c === "mobile_push" ? c : "unknown";
}
