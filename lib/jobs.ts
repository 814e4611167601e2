/** The minute jobs main.ts registers with Deno.cron: each logs its counts and never throws. */
import type { AppContext } from "./context.ts";
import { applyDue } from "./scheduler/apply.ts";
import { sweep, type SweepReport } from "./notices/sweep.ts";
import { checkPushReceipts } from "./channels/mod.ts";
import { log } from "./log.ts";

async function guarded(
  name: string,
  job: () => Promise<Record<string, unknown>>,
): Promise<void> {
  const started = performance.now();
  try {
    const result = await job();
    log.info(`${name} done`, {
      ...result,
      ms: Math.round(performance.now() - started),
    });
  } catch (err) {
    log.error(`${name} failed`, {
      error: String((err as Error)?.stack ?? err),
    });
  }
}

export function runApplyJob(ctx: AppContext): Promise<void> {
  return guarded("apply", async () => ({ ...await applyDue(ctx) }));
}

/** One sweep with the configured lease: the minute job and the admin button run this. */
export function sweepNow(ctx: AppContext): Promise<SweepReport> {
  return sweep({ ...ctx, log: log.info }, {
    leaseMs: ctx.config.noticeLeaseSeconds * 1000,
  });
}

export function runSweepJob(ctx: AppContext): Promise<void> {
  return guarded("notice sweep", async () => {
    const r = await sweepNow(ctx);
    return {
      processed: r.processed,
      sent: r.sent,
      failed: r.failed,
      recovered: r.recovered,
      voidedStale: r.voidedStale,
    };
  });
}

export function runPushReceiptJob(ctx: AppContext): Promise<void> {
  return guarded(
    "push receipts",
    async () => ({ ...await checkPushReceipts(ctx) }),
  );
}
