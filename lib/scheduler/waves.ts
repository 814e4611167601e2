/**
 * Rollout waves: the schedule body's `waves` and `gate`, and the plan that
 * puts each instance in one wave and gives each wave its time. The plan is a
 * pure function of the action id, its instances and the body, so the review,
 * the preview and the write all see the same waves.
 */
import { z } from "zod";
import { IdSchema } from "../ids.ts";
import type { GateSpec, Instance, WaveSpec } from "../types.ts";

export const MAX_WAVES = 10;
/** A week: the longest a wave soaks before the next one starts. */
export const MAX_SOAK_MINUTES = 10_080;
/**
 * What one controller call is expected to take, for the planned time of
 * the next wave: a wave of N instances is expected to take
 * N × 2 s / CONTROLLER_CONCURRENCY, rounded up to whole minutes (the apply
 * tick runs each minute), at least one.
 */
export const EXPECTED_CALL_MS = 2_000;
const MINUTE_MS = 60_000;
/** Controller calls in flight at once when the configuration does not say. */
export const DEFAULT_CONCURRENCY = 8;

const percent = z.number().int("must be a whole percent").min(1).max(100);

export const WaveSchema = z.strictObject({
  percent: percent.optional(),
  count: z.number().int("must be a whole number").min(1).optional(),
  instanceIds: z.array(IdSchema).min(1, "choose at least one instance")
    .optional(),
  soakMinutes: z.number().int("must be whole minutes").min(0)
    .max(MAX_SOAK_MINUTES, `at most ${MAX_SOAK_MINUTES} minutes (a week)`)
    .default(0),
}).superRefine((w, ctx) => {
  const given = [w.percent, w.count, w.instanceIds].filter((v) =>
    v !== undefined
  );
  if (given.length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message: "give exactly one of percent, count or instanceIds",
    });
  }
});

export const WavesSchema = z.array(WaveSchema)
  .min(1, "give at least one wave")
  .max(MAX_WAVES, `at most ${MAX_WAVES} waves`)
  .superRefine((waves, ctx) => {
    waves.forEach((w, i) => {
      if (i > 0 && w.instanceIds) {
        ctx.addIssue({
          code: "custom",
          path: [i, "instanceIds"],
          message: "only the first wave may be hand-picked",
        });
      }
    });
  });

export const GateSchema = z.strictObject({
  maxFailedPercent: z.number().min(0).max(100),
  maxUnhealthyPercent: z.number().min(0).max(100),
});

/** One planned wave: its instances (canary first, then by a stable hash) and its time. */
export interface PlannedWave {
  index: number;
  scheduledAt: string;
  soakMinutes: number;
  instanceIds: string[];
  /** Expected minutes for this wave's apply (see EXPECTED_CALL_MS). */
  expectedApplyMinutes: number;
}

/** FNV-1a: a small stable hash, so a wave's members are the same in the review and the write. */
function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Minutes a wave of `size` is expected to take to apply. */
export function expectedApplyMinutes(size: number, concurrency: number) {
  return Math.max(
    1,
    Math.ceil(size * EXPECTED_CALL_MS / Math.max(1, concurrency) / MINUTE_MS),
  );
}

/** Hand-picked canary ids that are not among the action's instances. */
export function strangerCanaries(
  waves: WaveSpec[] | undefined,
  instances: Pick<Instance, "id">[],
): string[] {
  const ids = new Set(instances.map((i) => i.id));
  return (waves?.[0]?.instanceIds ?? []).filter((id) => !ids.has(id));
}

/**
 * Puts each instance in a wave and times the waves: wave 1 at `scheduledAt`,
 * each later one after the one before it is expected to be applied and has
 * soaked. Without waves, one wave of everything. Waves left empty (earlier
 * ones took every instance) are dropped.
 */
export function planWaves(
  actionId: string,
  instances: Pick<Instance, "id">[],
  waves: WaveSpec[] | undefined,
  scheduledAtMs: number,
  concurrency: number,
): PlannedWave[] {
  const specs: WaveSpec[] = waves?.length ? waves : [{
    percent: 100,
    soakMinutes: 0,
  }];
  const canary = new Set(specs[0].instanceIds ?? []);
  const picked = instances.filter((i) => canary.has(i.id)).map((i) => i.id);
  const rest = instances.filter((i) => !canary.has(i.id))
    .map((i) => ({ id: i.id, h: stableHash(`${actionId}:${i.id}`) }))
    .sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : 1))
    .map((x) => x.id);
  const order = [...picked, ...rest];
  const total = order.length;
  const out: PlannedWave[] = [];
  let taken = 0;
  let at = scheduledAtMs;
  specs.forEach((w, i) => {
    const last = i === specs.length - 1;
    const want = last
      ? total - taken
      : w.instanceIds
      ? picked.length
      : w.count ?? Math.max(1, Math.ceil(total * (w.percent ?? 100) / 100));
    const size = Math.min(want, total - taken);
    if (size <= 0) return;
    const ids = order.slice(taken, taken + size);
    taken += size;
    const minutes = expectedApplyMinutes(size, concurrency);
    out.push({
      index: out.length,
      scheduledAt: new Date(at).toISOString(),
      soakMinutes: w.soakMinutes,
      instanceIds: ids,
      expectedApplyMinutes: minutes,
    });
    at += (minutes + w.soakMinutes) * MINUTE_MS;
  });
  return out;
}

/** The gate's verdict on a wave: failed when either share is over its limit (exactly at it passes). */
export function gateVerdict(
  gate: GateSpec,
  counts: { size: number; failed: number; unhealthy: number },
): { passed: boolean; failedPercent: number; unhealthyPercent: number } {
  const pct = (n: number) =>
    counts.size === 0 ? 0 : Math.round(n * 10_000 / counts.size) / 100;
  const failedPercent = pct(counts.failed);
  const unhealthyPercent = pct(counts.unhealthy);
  // Judged on the exact shares; the rounded ones are for people.
  return {
    passed: counts.failed * 100 <= gate.maxFailedPercent * counts.size &&
      counts.unhealthy * 100 <= gate.maxUnhealthyPercent * counts.size,
    failedPercent,
    unhealthyPercent,
  };
}

/**
 * "Paused: wave 1 — 3 of 100 failed, 7 unhealthy, over the 5 % gate": what
 * the action page, the alert email and the audit say of a failed verdict.
 */
export function pauseSentence(
  wave: number,
  gate: GateSpec,
  reading: { size: number; failed: number; unhealthy: number },
): string {
  const limit = gate.maxFailedPercent === gate.maxUnhealthyPercent
    ? `the ${gate.maxFailedPercent} % gate`
    : `the gate (${gate.maxFailedPercent} % failed, ${gate.maxUnhealthyPercent} % unhealthy)`;
  return `Paused: wave ${wave} — ${reading.failed} of ${reading.size} failed, ${reading.unhealthy} unhealthy, over ${limit}`;
}
