/**
 * Whether notices go out on time, read from KV by `/healthz`, the admin
 * actions page and the sweep's gauges: when the sweep and the apply last
 * finished, and the sweep lag, the time the oldest due notice has waited.
 * Every read follows the due index from its oldest end, never all rows.
 */
import { countDueKeys, firstDueKeys } from "../notices/due_index.ts";
import { keys } from "../kv/keys.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { getLastSweepRun } from "../notices/sweep.ts";
import type { Config } from "../config.ts";
import type { Notification } from "../types.ts";

export interface ApplyRun {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  stages: number;
  applied: number;
  skipped: number;
  failed: number;
  recovered: number;
}

export async function recordApplyRun(kv: Deno.Kv, run: ApplyRun) {
  await kv.set(keys.applyLastRun(), run);
}

export async function getLastApplyRun(kv: Deno.Kv): Promise<ApplyRun | null> {
  return (await kv.get<ApplyRun>(keys.applyLastRun())).value;
}

/** Due-index keys read to find the oldest row still waiting (debris is skipped). */
const LAG_SCAN = 100;

/**
 * How long the oldest notice due and still pending has waited (0: none). A
 * due key whose row moved on (debris the next sweep removes) is skipped; past
 * `LAG_SCAN` of them the oldest key read stands for the lag.
 */
export async function sweepLagMs(kv: Deno.Kv, now: number): Promise<number> {
  const dueKeys = await firstDueKeys(kv, now, LAG_SCAN);
  if (!dueKeys.length) return 0;
  for (let i = 0; i < dueKeys.length; i += 10) {
    const part = dueKeys.slice(i, i + 10);
    const rows = await getManyChunked<Notification>(
      kv,
      part.map((k) => keys.notification(k.id)),
    );
    const live = part.find((k, j) =>
      rows[j].value?.status === "pending" && rows[j].value?.dueAt === k.dueAt
    );
    if (live) return now - live.dueAt;
  }
  return dueKeys.length < LAG_SCAN ? 0 : now - dueKeys[0].dueAt;
}

/** Due-index keys up to now, counted up to `cap` (the sweep's gauge). */
export async function countDue(
  kv: Deno.Kv,
  now: number,
  cap = 10_000,
): Promise<number> {
  return await countDueKeys(kv, now, cap);
}

export interface Health {
  ok: boolean;
  /** What is wrong, in words (empty when ok). */
  problems: string[];
  checkedAt: string;
  lastSweepAt: string | null;
  lastApplyAt: string | null;
  /** Since the last sweep finished (since this process started, before any). */
  secondsSinceSweep: number;
  sweepLagSeconds: number;
  limits: { maxSweepLagSeconds: number; maxSweepAgeSeconds: number };
}

/** When this process started: a database no sweep has touched yet gets one threshold of grace. */
const PROCESS_STARTED = Date.now();

export async function readHealth(deps: {
  kv: Deno.Kv;
  config: Pick<Config, "healthMaxSweepLagSeconds" | "healthMaxSweepAgeSeconds">;
  now: () => number;
}): Promise<Health> {
  const { kv, config } = deps;
  const now = deps.now();
  const [sweep, apply, lagMs] = await Promise.all([
    getLastSweepRun(kv),
    getLastApplyRun(kv),
    sweepLagMs(kv, now),
  ]);
  const sweptAt = sweep ? Date.parse(sweep.finishedAt) : PROCESS_STARTED;
  const secondsSinceSweep = Math.max(0, Math.round((now - sweptAt) / 1000));
  const sweepLagSeconds = Math.round(lagMs / 1000);
  const problems: string[] = [];
  if (sweepLagSeconds > config.healthMaxSweepLagSeconds) {
    problems.push(
      `the oldest due notice has waited ${sweepLagSeconds} s (limit ${config.healthMaxSweepLagSeconds} s)`,
    );
  }
  if (secondsSinceSweep > config.healthMaxSweepAgeSeconds) {
    problems.push(
      `no notice sweep has finished for ${secondsSinceSweep} s (limit ${config.healthMaxSweepAgeSeconds} s)`,
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    checkedAt: new Date(now).toISOString(),
    lastSweepAt: sweep?.finishedAt ?? null,
    lastApplyAt: apply?.finishedAt ?? null,
    secondsSinceSweep,
    sweepLagSeconds,
    limits: {
      maxSweepLagSeconds: config.healthMaxSweepLagSeconds,
      maxSweepAgeSeconds: config.healthMaxSweepAgeSeconds,
    },
  };
}
