/**
 * An applying process for the rollout fault tests: the app's `applyTick` on
 * a shared KV file, once for each time given (a clock moved by hand), one
 * controller call at a time.
 *
 * Its controller changes the instance record as the embedded one does and,
 * in the same atomic write, adds one to `["fault_changes", instanceId]`, so
 * a test can see that each instance was changed exactly once whatever was
 * killed where. Before changing an instance of wave N+1 it reads wave N's
 * stage: a change made while that gate had not passed (nor been resumed
 * over) is written to `["fault_early", instanceId]`. Instances on a tag in
 * the unhealthy list read unhealthy, as with
 * EMBEDDED_CONTROLLER_UNHEALTHY_TAGS.
 *
 * It prints "at <ms>" as each tick begins, and "phase <name> <n> <detail>"
 * after each committed step:
 * started (a stage start, detail its index), applied (a target recorded
 * applied, detail its instance), finished (a wave ended, before any gate
 * reading), health (the gate read the wave's health, before deciding),
 * verdict (a gate verdict, detail "<index>:<passed|failed>"), pause (the
 * pause commit), held (one target's warnings held, detail its id). Told to
 * stop at one ("<name>:<n>"), it prints "stopped" there and freezes, to
 * be killed with SIGKILL.
 *
 *   deno run -A _apply_worker.ts <kv path> <ms,ms,…> <name:n | -> <tags | ->
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { keys } from "@/lib/kv/keys.ts";
import { addInstanceUpdate } from "@/lib/kv/instances.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { HELD_DUE_AT } from "@/lib/notices/rows.ts";
import type {
  ControllerCallOptions,
  ControllerResult,
  InstanceController,
} from "@/lib/apply/controller.ts";
import type {
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "@/lib/types.ts";

setQuietLogs(true);
const [kvPath, timesArg, stopArg, tagsArg] = Deno.args;
const times = timesArg.split(",").map(Number);
const stop = stopArg === "-"
  ? null
  : { phase: stopArg.split(":")[0], nth: Number(stopArg.split(":")[1]) };
const unhealthyTags = tagsArg && tagsArg !== "-" ? tagsArg.split(",") : [];

const counts = new Map<string, number>();
function phase(name: string, detail: string): void {
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  console.log(`phase ${name} ${n} ${detail}`);
  if (stop && stop.phase === name && stop.nth === n) {
    console.log("stopped");
    // Frozen whole, as if the process died here: no other lane of the
    // tick runs on while it waits to be killed.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3_600_000);
  }
}

/** The phases one commit completes, read from what it writes. */
function phasesOf(key: Deno.KvKey, value: unknown): [string, string][] {
  if (key[0] === "stages") {
    const s = value as Stage;
    if (s.status === "running") return [["started", String(s.index)]];
    if (s.gate?.verdict) {
      return [["verdict", `${s.index}:${s.gate.verdict}`]];
    }
    if (s.finishedAt && !s.gate?.at) return [["finished", String(s.index)]];
  }
  if (key[0] === "actions" && key.length === 2) {
    const a = value as ScheduledAction;
    if (a.status === "paused") return [["pause", a.id]];
  }
  if (key[0] === "targets" && key.length === 2) {
    const t = value as Target;
    if (t.status === "applied") return [["applied", t.instanceId]];
  }
  if (key[0] === "notifications" && key.length === 2) {
    const r = value as Notification;
    if (r.kind === "on_hold" || r.dueAt === HELD_DUE_AT) {
      return [["held", r.targetId]];
    }
  }
  return [];
}

function observed(kv: Deno.Kv): Deno.Kv {
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const seen = new Map<string, [string, string]>();
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "set") {
          return (k: Deno.KvKey, v: unknown, o?: { expireIn?: number }) => {
            for (const p of phasesOf(k, v)) seen.set(p.join(" "), p);
            target.set(k, v, o);
            return proxy;
          };
        }
        if (prop === "commit") {
          return async () => {
            const res = await target.commit();
            if (res.ok) {
              for (const [name, detail] of seen.values()) phase(name, detail);
            }
            return res;
          };
        }
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          (v as (...a: unknown[]) => unknown).apply(target, args);
          return proxy;
        };
      },
    });
    return proxy;
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapOp(target.atomic());
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const raw = await openKv(parseConfig({ KV_PATH: kvPath, DEMO_SEED: "false" }));
const kv = observed(raw);
let now = times[0];

/** Did the wave before this target's pass its gate (or get resumed over)? */
async function earlierWavePassed(opts: ControllerCallOptions) {
  const t = (await raw.get<Target>(keys.target(opts.targetId))).value;
  if (!t || t.stageIndex === 0) return true;
  const before = (await raw.get<Stage>(
    keys.stage(opts.actionId, t.stageIndex - 1),
  )).value;
  return before?.gate?.verdict === "passed" || !!before?.gate?.resumedAt;
}

async function change(
  id: string,
  opts: ControllerCallOptions,
  edit: (i: Instance, at: string) => Instance,
): Promise<ControllerResult> {
  const early = !(await earlierWavePassed(opts));
  for (let attempt = 0; attempt < 10; attempt++) {
    const cur = await raw.get<Instance>(keys.instance(id));
    if (!cur.value) {
      return { ok: false, transient: false, error: `${id} is gone` };
    }
    const op = addInstanceUpdate(
      raw.atomic(),
      cur as Deno.KvEntry<Instance>,
      edit(cur.value, new Date(now).toISOString()),
    ).sum(["fault_changes", id], 1n);
    if (early) op.set(["fault_early", id], opts.targetId);
    if ((await op.commit()).ok) return { ok: true };
  }
  return { ok: false, transient: true, error: `${id} kept changing` };
}

const embedded = embeddedController(raw, () => now, unhealthyTags);
const controller: InstanceController = {
  name: "recording",
  async health(ids) {
    const h = await embedded.health(ids);
    phase("health", String(ids.length));
    return h;
  },
  restart: (instance, opts) =>
    change(instance.id, opts, (i, at) => ({
      ...i,
      lastRestartAt: at,
      updatedAt: at,
    })),
  changeVersion: (instance, imageTag, opts) =>
    change(instance.id, opts, (i, at) => ({
      ...i,
      imageTag,
      pinnedImageTag: opts.removePin ? null : i.pinnedImageTag,
      updatedAt: at,
    })),
};

console.log("ready");
for (const t of times) {
  now = t;
  console.log(`at ${t}`);
  const r = await applyTick({ kv, controller, now: () => now, concurrency: 1 });
  console.log(`tick ${t} applied ${r.applied} paused ${r.paused}`);
}
raw.close();
console.log("done");
