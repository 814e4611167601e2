/**
 * The notice sweep, run every minute by `Deno.cron` and on demand by the
 * admin button. One pass: recover groups whose lease ended, then walk the
 * due index oldest first, page by page, gathering rows into dispatch groups;
 * each group is claimed (rows whose parents moved on are finalized), sent and
 * marked on its own (`process_group.ts`) while the next are gathered
 * (`gather.ts`). Its cost follows the rows due, never the rows stored
 * (DESIGN rule 8).
 *
 * Overlapping sweeps (the cron and the button, or two processes on one KV)
 * are safe: a row is dispatched only by the sweep whose claim committed.
 * They do not race for the same rows either: each reads only the parts of
 * the due index it holds (due_index.ts).
 */
import type {
  SweepDeps,
  SweepOptions,
  SweepReport,
  Tally,
} from "./sweep_deps.ts";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { type SharedReads, sharedReads } from "../kv/batched_reads.ts";
import { commitPool } from "../kv/commits.ts";
import { recoverGroups } from "./recover.ts";
import type { GroupPlan } from "./claim.ts";
import { Gatherer, leaveUnwritten, planGroups, readDueRows } from "./gather.ts";
import { DueReader, DueShards } from "./due_index.ts";
import { processGroup } from "./process_group.ts";

/** A sweep that died holds its parts of the due index at most this long. */
const MAX_SHARD_LEASE_MS = 30_000;

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
  const gatherer = new Gatherer(deps.dispatchers);
  // Actions still being written, asked once per sweep.
  const preparing = new Map<string, boolean>();
  // Rows coming due while the sweep runs wait for the next tick; retries are
  // always pushed at least half a base delay ahead, so they are never re-read
  // here. Only the parts of the due index this sweep holds are read: another
  // sweep running now reads the others.
  const reader = new DueReader(kv, startedAtMs, pageSize);
  reader.add("legacy");
  const shards = new DueShards(
    kv,
    Math.min(opts.leaseMs ?? 60_000, MAX_SHARD_LEASE_MS),
  );
  const refresh = async () => {
    const { gained, lost } = await shards.refresh(deps.now());
    for (const part of lost) reader.drop(part);
    for (const part of gained) reader.add(part);
    return gained.length;
  };
  try {
    await refresh();
    let pages = 0;
    let reads = sharedReads(kv);
    while (
      performance.now() - clock < budgetMs &&
      pages++ < (opts.maxPages ?? Infinity)
    ) {
      if (pages > 1) await refresh();
      let page = await reader.nextPage();
      // Read out: a part another sweep let go of meanwhile is served too.
      if (!page.length && await refresh()) page = await reader.nextPage();
      if (!page.length) break;
      // The groups cut from this page (one per channel for the same owners)
      // read each owner and instance once between them.
      reads = sharedReads(kv);
      try {
        const rows = await leaveUnwritten(
          kv,
          await readDueRows(
            kv,
            page.map((k) => k.key),
            startedAtMs,
            tally,
            deps.now(),
          ),
          preparing,
          tally,
        );
        const { retakes, fresh } = await planGroups(kv, rows, tally);
        for (const plan of retakes) await run(plan, reads);
        for (const row of fresh) {
          const full = gatherer.add(row);
          if (full) await run(full, reads);
        }
      } catch (err) {
        // A page that cannot be read is left for the next tick (DESIGN rule 7).
        tally.errors++;
        deps.log?.("notice sweep page failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    for (const plan of gatherer.rest()) await run(plan, reads);
    await pool.drain();
  } finally {
    await shards.release();
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
