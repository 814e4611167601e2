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
import { rowProblem } from "./rows.ts";
import { recoverGroups } from "./recover.ts";
import { claimGroup, type GroupPlan, type HeldGroup } from "./claim.ts";
import { buildItems } from "./items.ts";
import { sendGroups, type SentGroup } from "./dispatch.ts";
import { settleGroup } from "./mark.ts";
import { openIn } from "./groups.ts";
import { getManyById, getManyChunked } from "../kv/read.ts";
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
  /** Dispatch groups in flight at once (default 10). */
  concurrency?: number;
  /** Due-index keys read per page (default 500). */
  pageSize?: number;
  /** How long a claim holds its rows before recovery may take them (default 60 s). */
  leaseMs?: number;
  /** Stop starting new pages after this long; the next tick goes on (default 45 s). */
  budgetMs?: number;
}

export interface SweepReport extends SweepRun {
  /** Rows that failed transiently and went back to pending with backoff. */
  retried: number;
  /** Due rows left alone (their schedule write is still in progress, or another sweep holds their group). */
  deferred: number;
  /** Rows whose outcome could not be recorded; recovery finishes them after the lease. */
  unmarked: number;
  /** Pages abandoned on an unexpected error (logged); their rows wait for the next tick. */
  errors: number;
}

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
      // Whatever this page holds is recovered after its lease; the next page
      // still gets its turn (DESIGN rule 7).
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

/** One page of due rows: plan groups, claim them, send them, mark them. */
async function sweepPage(
  deps: SweepDeps,
  opts: SweepOptions,
  dueKeys: Deno.KvKey[],
  tickAt: number,
  tally: Tally,
): Promise<void> {
  const { kv } = deps;
  const now = deps.now();
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const rows = await readDueRows(kv, dueKeys, tickAt, tally, now);
  const plans = await planGroups(kv, rows, deps.dispatchers, tally);

  const held: HeldGroup[] = [];
  for (const plan of plans) {
    const h = await claimGroup(kv, plan, { now, leaseMs, tally });
    if (h) held.push(h);
  }
  if (!held.length) return;
  tally.processed += held.reduce((n, h) => n + h.rows.length, 0);

  const claimed = held.flatMap((h) => h.rows);
  const { items, failures } = await buildItems(kv, claimed);
  const itemOf = new Map<string, NoticeItem | { error: string }>([
    ...items.map((i) => [i.notification.id, i] as const),
    ...failures.map((f) => [f.id, { error: f.error }] as const),
  ]);
  const settle = async ({ held: h, outcomes }: SentGroup) => {
    if (!outcomes) {
      tally.unmarked += h.rows.length;
      return;
    }
    const counts = await settleGroup(
      kv,
      h.group,
      h.rows.map((r) => ({
        entry: r.entry,
        outcome: outcomes.get(r.entry.value.id)!,
      })),
      deps.now(),
      deps.log,
    );
    tally.sent += counts.sent;
    tally.failed += counts.failed;
    tally.retried += counts.retried;
    tally.unmarked += counts.unmarked;
  };
  await sendGroups(kv, deps.dispatchers, held, itemOf, {
    timeoutMs: Math.min(opts.dispatchTimeoutMs ?? 10_000, leaseMs / 2),
    concurrency: opts.concurrency ?? 10,
    leaseMs,
    now: deps.now,
  }, settle);
}

/**
 * Rows due now: a row waiting in an email group brings the whole group (all
 * its open members, under the same key); the rest form new groups per
 * channel, as large as the channel takes.
 */
async function planGroups(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  dispatchers: Dispatchers,
  tally: Tally,
): Promise<GroupPlan[]> {
  const groups = await getManyById<NoticeGroup>(
    kv,
    rows.flatMap((r) => r.value.groupId ? [r.value.groupId] : []),
    keys.noticeGroup,
  );
  const plans: GroupPlan[] = [];
  const fresh = new Map<Channel, Deno.KvEntry<Notification>[]>();
  const taken = new Set<string>();
  for (const r of rows) {
    const g = r.value.groupId ? groups.get(r.value.groupId) : undefined;
    if (!g?.value || !openIn(g.value, r.value)) {
      fresh.set(r.value.channel, [...fresh.get(r.value.channel) ?? [], r]);
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
    plans.push({
      channel: g.value.channel,
      group: g as Deno.KvEntry<NoticeGroup>,
      rows: members.filter((m): m is Deno.KvEntry<Notification> =>
        m.value?.status === "pending" && m.value.groupId === g.value!.id
      ),
    });
  }
  for (const [channel, list] of fresh) {
    const size = Math.max(1, dispatchers[channel].maxGroupSize);
    for (let i = 0; i < list.length; i += size) {
      plans.push({ channel, group: null, rows: list.slice(i, i + size) });
    }
  }
  return plans;
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
  const entries = await getManyChunked<Notification>(
    kv,
    dueKeys.map((k) => keys.notification(k[2] as string)),
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
