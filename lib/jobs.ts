/**
 * The jobs main.ts registers with Deno.cron. Each runs in a span of
 * its own (its counts as attributes, its log lines carrying the trace id),
 * logs its counts and never throws.
 */
import type { AppContext } from "./app_context.ts";
import { type ApplyDeps, applyDue, type ApplyResult } from "./apply/apply.ts";
import { finishInterrupted } from "./apply/housekeeping.ts";
import { purgeEndedActions } from "./scheduler/retention.ts";
import { sweep } from "./notices/sweep.ts";
import type { SweepReport } from "./notices/sweep_deps.ts";
import { checkPushReceipts } from "./channels/mod.ts";
import { sweepSignInEmails } from "./auth/sign_in_emails.ts";
import { countDue, recordApplyRun, sweepLagMs } from "./operations/health.ts";
import {
  failSpan,
  inSpan,
  recordApply,
  recordBacklog,
  recordSweepDuration,
  setCounts,
} from "./operations/telemetry.ts";
import { log } from "./operations/log.ts";
import { deliverWebhooks } from "./webhooks/deliveries.ts";

function guarded(
  name: string,
  job: () => Promise<Record<string, unknown>>,
): Promise<void> {
  return inSpan(name, async (span) => {
    const started = performance.now();
    try {
      const result = await job();
      setCounts(span, "kiloclaw", result);
      log.info(`${name} done`, {
        ...result,
        ms: Math.round(performance.now() - started),
      });
    } catch (err) {
      failSpan(span, err);
      log.error(`${name} failed`, {
        error: String((err as Error)?.stack ?? err),
      });
    }
  });
}

/** The minute apply: finish what a crash interrupted, then apply every due stage. */
export async function applyTick(deps: ApplyDeps): Promise<ApplyResult> {
  await finishInterrupted(deps);
  return await applyDue(deps);
}

export function runApplyJob(ctx: AppContext): Promise<void> {
  return guarded("apply", async () => {
    const startedAt = ctx.now();
    const clock = performance.now();
    const result = await applyTick({
      ...ctx,
      concurrency: ctx.config.controllerConcurrency,
    });
    const durationMs = Math.round(performance.now() - clock);
    recordApply(result, durationMs);
    await recordApplyRun(ctx.kv, {
      ...result,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(startedAt + durationMs).toISOString(),
      durationMs,
    });
    return { ...result };
  });
}

/**
 * One sweep with the configured lease: the minute job and the admin button
 * run this. The backlog it starts from (rows due, the oldest one's wait) and
 * its duration are recorded as metrics.
 */
export async function sweepNow(ctx: AppContext): Promise<SweepReport> {
  const now = ctx.now();
  const [due, lagMs] = await Promise.all([
    countDue(ctx.kv, now),
    sweepLagMs(ctx.kv, now),
  ]);
  recordBacklog(due, lagMs);
  const report = await sweep({ ...ctx, log: log.info }, {
    leaseMs: ctx.config.noticeLeaseSeconds * 1000,
  });
  recordSweepDuration(report.durationMs);
  return report;
}

/** The notice sweep, then the sign-in emails a request's own process did not get out. */
export function runSweepJob(ctx: AppContext): Promise<void> {
  return guarded("notice sweep", async () => {
    const signIn = await sweepSignInEmails(ctx);
    const r = await sweepNow(ctx);
    return {
      processed: r.processed,
      sent: r.sent,
      failed: r.failed,
      retried: r.retried,
      recovered: r.recovered,
      voidedStale: r.voidedStale,
      deferred: r.deferred,
      errors: r.errors,
      signInSent: signIn.sent,
      signInRetried: signIn.retried,
      signInFailed: signIn.failed,
    };
  });
}

export function runPushReceiptJob(ctx: AppContext): Promise<void> {
  return guarded(
    "push receipts",
    async () => ({ ...await checkPushReceipts(ctx) }),
  );
}

/** The daily purge of actions that ended longer ago than the retention (`scheduler/retention.ts`). */
export function runRetentionJob(ctx: AppContext): Promise<void> {
  return guarded("retention", async () => ({
    ...await purgeEndedActions(ctx.kv, {
      now: ctx.now(),
      retentionDays: ctx.config.actionRetentionDays,
    }),
  }));
}

/** The minute webhook delivery (`webhooks/deliveries.ts`). */
export function runWebhookJob(ctx: AppContext): Promise<void> {
  return guarded("webhooks", async () => ({ ...await deliverWebhooks(ctx) }));
}
