/**
 * The apply tick (Deno.cron, every minute): every stage whose time has come
 * runs. Its pending targets are claimed a batch at a time (`claim.ts`),
 * each gets what `decide` says — a skip or a controller call —, each answer
 * is recorded as soon as it comes (`settle.ts`; answers arriving
 * together share a commit), then the stage and its action finish
 * (`stage_status.ts`). Targets whose applier vanished are taken back first
 * (`recover.ts`). `putTarget` moves every target and its index keys.
 */
import { keys } from "../kv/keys.ts";
import { allTargetIdsOfAction, getTargetEntries } from "../kv/actions.ts";
import { getInstances } from "../kv/instances.ts";
import type { ActionCounters, Target } from "../types.ts";
import type { ControllerResult, InstanceController } from "./controller.ts";
import { decide, type Decision, judgeResult } from "./decide.ts";
import { type Claimed, claimTargets } from "./claim.ts";
import { type Settled, settler, type Settling } from "./settle.ts";
import { recoverStuckTargets } from "./recover.ts";
import { finishStage, startStage } from "./stage_status.ts";
import { forEachLimited } from "../kv/commits.ts";
import { judgeDueGates } from "./gate.ts";
import { sendAdminAlerts } from "../operations/admin_alerts.ts";
import type { Config } from "../config.ts";
import type { EmailSender } from "../channels/types.ts";
import { callSlots } from "./call_slots.ts";

export interface ApplyDeps {
  kv: Deno.Kv;
  controller: InstanceController;
  now: () => number;
  /** Who hears of a paused rollout besides its creator, and the link's base. */
  config?: Pick<Config, "adminEmails" | "publicUrl">;
  /** Sends the admin alert of a paused rollout (absent: alerts wait in KV). */
  email?: EmailSender;
  /** Controller calls in flight at once (`CONTROLLER_CONCURRENCY`, default 8). */
  concurrency?: number;
  /** Waits for a notice's lease to end (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ApplyResult {
  stages: number;
  /** Health gate readings taken, and the rollouts they paused. */
  gates: number;
  paused: number;
  healthCalls: number;
  applied: number;
  skipped: number;
  failed: number;
  recovered: number;
}

/** The longest an apply waits in one tick for a notice in flight: the longest lease. */
const MAX_NOTICE_WAIT_MS = 3_600_000;
/** Targets claimed and recorded together. */
const BATCH = 100;
/** Batches in flight at once: one claims or records while another's calls run. */
const LANES = 2;

type Counts = Omit<ActionCounters, "total">;

export async function applyDue(deps: ApplyDeps): Promise<ApplyResult> {
  const { kv } = deps;
  const result: ApplyResult = {
    stages: 0,
    gates: 0,
    paused: 0,
    healthCalls: 0,
    applied: 0,
    skipped: 0,
    failed: 0,
    recovered: await recoverStuckTargets(kv, deps.now()),
  };
  const gateDeps = {
    ...deps,
    adminEmails: deps.config?.adminEmails,
    publicUrl: deps.config?.publicUrl,
  };
  const judge = async () => {
    const g = await judgeDueGates(gateDeps);
    result.gates += g.judged;
    result.paused += g.paused;
    result.healthCalls += g.healthCalls;
  };
  // Gates first: a wave whose soak ended lets the next one start this tick.
  await judge();
  const due: [string, number][] = [];
  for await (
    const e of kv.list({
      start: keys.stagesDue(),
      end: [...keys.stagesDue(), deps.now() + 1],
    })
  ) due.push([e.key[2] as string, e.key[3] as number]);
  for (const [actionId, index] of due) {
    const counts = await applyStage(deps, actionId, index);
    if (!counts) continue;
    result.stages++;
    result.applied += counts.applied;
    result.skipped += counts.skipped;
    result.failed += counts.failed;
  }
  // A wave that just finished gets its first health reading now.
  if (result.stages > 0) await judge();
  if (deps.email) await sendAdminAlerts(kv, deps.email, deps.now);
  return result;
}

/** Runs one due stage; null when it was not runnable (cancelled, finished, or not visible). */
async function applyStage(
  deps: ApplyDeps,
  actionId: string,
  index: number,
): Promise<Counts | null> {
  const { kv } = deps;
  const started = await startStage(kv, actionId, index, deps.now());
  if (!started) return null;
  const counts: Counts = { applied: 0, skipped: 0, failed: 0 };
  const waiting: { id: string; until: number }[] = [];
  const settle = settler(kv, deps.now);
  const inSlot = callSlots(deps.concurrency ?? 8);
  const run = async (ids: string[]) => {
    const pending = (await getTargetEntries(kv, ids)).filter((e) =>
      e.value.status === "pending" && e.value.stageIndex === index
    );
    const batches: Deno.KvEntry<Target>[][] = [];
    for (let i = 0; i < pending.length; i += BATCH) {
      batches.push(pending.slice(i, i + BATCH));
    }
    await forEachLimited(batches, LANES, async (batch) => {
      const claim = await claimTargets(kv, started, batch, deps.now());
      waiting.push(...claim.waiting);
      await applyClaimed(deps, claim.claimed, inSlot, settle.record, (s) => {
        if (s !== "retry" && s !== "lost") counts[s]++;
      });
    });
  };
  const ids = await allTargetIdsOfAction(kv, actionId);
  for (let i = 0; i < ids.length; i += 4 * BATCH) {
    await run(ids.slice(i, i + 4 * BATCH));
  }
  if (waiting.length) {
    // A notice in flight goes out before the change, never after: wait for
    // its lease (at most one), then try those targets once more.
    const until = Math.max(...waiting.map((w) => w.until));
    const ms = Math.min(until - deps.now(), MAX_NOTICE_WAIT_MS) + 50;
    await (deps.sleep ?? ((t) => new Promise((r) => setTimeout(r, t))))(ms);
    await run(waiting.splice(0).map((w) => w.id));
  }
  await finishStage(kv, actionId, index, deps.now());
  return counts;
}

/** Decides, calls the controller for and records each claimed target. */
async function applyClaimed(
  deps: ApplyDeps,
  claimed: Claimed[],
  inSlot: ReturnType<typeof callSlots>,
  record: (s: Settling) => Promise<Settled>,
  count: (s: Settled) => void,
) {
  const instances = await getInstances(
    deps.kv,
    claimed.map((c) => c.target.value.instanceId),
  );
  await forEachLimited(
    claimed,
    Math.max(1, deps.concurrency ?? 8),
    async (c) => {
      const t = c.target.value;
      const instance = instances.get(t.instanceId) ?? null;
      const decision = decide(instance, c.action, t);
      const end = decision.call === "none" ? decision.end : judgeResult(
        await inSlot(() => call(deps.controller, instance!, decision)),
        t.attempts ?? 1,
      );
      count(await record({ ...c, end }));
    },
  );
}

async function call(
  controller: InstanceController,
  instance: Parameters<InstanceController["restart"]>[0],
  d: Exclude<Decision, { call: "none" }>,
): Promise<ControllerResult> {
  try {
    return d.call === "changeVersion"
      ? await controller.changeVersion(instance, d.imageTag, d.opts)
      : await controller.restart(instance, d.opts);
  } catch (err) {
    return {
      ok: false,
      transient: true,
      error: String((err as Error)?.message ?? err),
    };
  }
}
