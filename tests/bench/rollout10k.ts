/**
 * `rollout10k`: a version change of 10,000 instances in three waves (1 %,
 * 20 %, the rest; no soak, a 5 % gate), driven through the real apply tick
 * with the embedded controller (every instance healthy) on a clock moved a
 * minute a tick, from wave 1's time until the action completes. Notices are
 * on (email, banner, push), so each claim checks its target's rows as in
 * production. What is timed: every tick, the idle ones between waves
 * included — the stage starts, the apply, the gate's health reads.
 *
 * The gate reads the health of each wave it judges in calls of at most 100
 * instances, so its cost follows the wave's size: the bench fails unless
 * the calls made are ⌈applied ÷ 100⌉ for each reading taken. The last wave
 * ends the action and has no later wave to guard, so it is not read.
 */
import { keys } from "@/lib/kv/keys.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { HEALTH_BATCH } from "@/lib/apply/controller.ts";
import { getStageCounts, getStageEntries } from "@/lib/kv/actions.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import type { ScheduledAction } from "@/lib/types.ts";
import { seedFleet } from "./fleet.ts";

const MINUTE = 60_000;
const NEW_TAG = "2026.12.1";

export interface WaveFigure {
  wave: number;
  size: number;
  applied: number;
  /** Seconds of the tick that applied it (its start, apply and first gate reading). */
  seconds: number;
  healthCalls: number;
  gate: "passed" | "failed" | null;
}

export interface Rollout10k {
  instances: number;
  ticks: number;
  seconds: number;
  healthCalls: number;
  waves: WaveFigure[];
}

export async function rollout10k(count = 10_000): Promise<Rollout10k> {
  const kv = await Deno.openKv(":memory:");
  try {
    const ids = await seedFleet(kv, count, { prefix: "rollout" });
    await putCatalogEntry(kv, NEW_TAG, { openclawVersion: "1.9.0" });
    const scheduledAt = Date.now() + 3 * 3_600_000;
    const { id: actionId } = await scheduleAction(
      { kv, config: { scheduleMinAheadSeconds: 0 }, now: () => Date.now() },
      ScheduleInputSchema.parse({
        actionType: "version_change",
        imageTag: NEW_TAG,
        instanceIds: ids,
        scheduledAt: new Date(scheduledAt).toISOString(),
        noticeLeadHours: 24,
        noticeChannels: ["email", "webapp", "mobile_push"],
        waves: [
          { percent: 1, soakMinutes: 0 },
          { percent: 20, soakMinutes: 0 },
          { percent: 100 },
        ],
        gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
      }),
      { id: "bench" },
    );
    let now = scheduledAt;
    const controller = embeddedController(kv, () => now);
    const waves: WaveFigure[] = [];
    let seconds = 0;
    let healthCalls = 0;
    let ticks = 0;
    for (; ticks < 120; ticks++) {
      const started = performance.now();
      const r = await applyTick({ kv, controller, now: () => now });
      const took = (performance.now() - started) / 1000;
      seconds += took;
      healthCalls += r.healthCalls;
      if (r.applied > 0) {
        waves.push({
          wave: waves.length + 1,
          size: 0,
          applied: r.applied,
          seconds: took,
          healthCalls: r.healthCalls,
          gate: null,
        });
      }
      const action = await kv.get<ScheduledAction>(keys.action(actionId));
      if (action.value?.status === "completed") break;
      if (action.value?.status !== "running" && ticks > 0) {
        throw new Error(`the rollout is ${action.value?.status}`);
      }
      now += MINUTE;
    }
    const stages = (await getStageEntries(kv, actionId)).map((e) => e.value);
    if (stages.length !== 3 || waves.length !== 3) {
      throw new Error(`${stages.length} stages, ${waves.length} waves applied`);
    }
    const sizes = await getStageCounts(kv, actionId);
    let expectedCalls = 0;
    stages.forEach((s, i) => {
      waves[i].size = sizes.get(i)?.total ?? 0;
      waves[i].gate = s.gate?.verdict ?? null;
      const read = s.gate?.at ? Math.ceil(waves[i].applied / HEALTH_BATCH) : 0;
      if (waves[i].healthCalls !== read) {
        throw new Error(
          `wave ${i + 1}: ${waves[i].healthCalls} health calls for ${
            waves[i].applied
          } instances, expected ${read}`,
        );
      }
      expectedCalls += read;
    });
    const applied = waves.reduce((n, w) => n + w.applied, 0);
    if (applied !== count) throw new Error(`applied ${applied} of ${count}`);
    if (healthCalls !== expectedCalls) {
      throw new Error(`${healthCalls} health calls, expected ${expectedCalls}`);
    }
    return { instances: count, ticks: ticks + 1, seconds, healthCalls, waves };
  } finally {
    kv.close();
  }
}
