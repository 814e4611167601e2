/**
 * kill -9 of the apply in the middle of a rollout. A child process
 * (`_apply_worker.ts`) runs the app's apply tick on a KV file, with a clock
 * given on its command line and a controller that counts every change it
 * makes; it is stopped right after a stage start, after some of a wave was
 * applied, after the pause commit, in the middle of the hold walk, and
 * between the gate's health reads and its verdict, and killed with SIGKILL.
 * A fresh process then finishes the job. Whatever was killed where: each
 * instance is changed once, a wave starts once and never before the gate of
 * the wave before it passed, a gate decides once, and a paused rollout holds
 * its later owners' warnings with one on-hold notice per channel that
 * warned them.
 */
import assert from "node:assert/strict";
import { keys } from "@/lib/kv/keys.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { putUser } from "@/lib/kv/users.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import {
  allTargetIdsOfAction,
  getStageEntries,
  getTargetEntries,
} from "@/lib/kv/actions.ts";
import type { Instance, ScheduledAction, Target } from "@/lib/types.ts";
import {
  type RecordingDispatchers,
  recordingDispatchers,
} from "../helpers/dispatchers.ts";
import {
  deps,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { openKvFile, startWorker } from "./_harness.ts";

setQuietLogs(true);

const WORKER = new URL("./_apply_worker.ts", import.meta.url).pathname;
const MINUTE = 60_000;
const START = Date.parse("2030-01-01T00:00:00Z");
/** Wave 1's time: three hours after the action is scheduled. */
const T = START + 3 * HOUR;

interface Run {
  lines: string[];
  killed: boolean;
}

/** Runs one apply process at `times`; with `stopAt`, kills it there with SIGKILL. */
async function apply(
  kvPath: string,
  times: number[],
  o: { stopAt?: string; unhealthy?: string[] } = {},
): Promise<Run> {
  const w = startWorker(WORKER, [
    kvPath,
    times.join(","),
    o.stopAt ?? "-",
    o.unhealthy?.join(",") || "-",
  ]);
  const end = await w.waitFor(/^(stopped|done)$/, 60_000);
  if (o.stopAt) {
    assert.equal(end, "stopped", `never reached ${o.stopAt}:\n${w.lines}`);
  }
  if (o.stopAt) await w.kill();
  const status = await w.done;
  if (!o.stopAt) assert.equal(status.code, 0, w.lines.join("\n"));
  return { lines: w.lines, killed: !!o.stopAt };
}

/** "phase <name> <n> <detail>" lines of every run, as details per name. */
function phases(runs: Run[], name: string): string[] {
  return runs.flatMap((r) =>
    r.lines.map((l) => l.split(" "))
      .filter((p) => p[0] === "phase" && p[1] === name)
      .map((p) => p[3])
  );
}

/**
 * 40 instances of 40 owners on v1, and a version change to v2 in three
 * waves (10, 10, 20) at T, told two hours ahead on email and the banner.
 */
async function rolloutOnFile(
  kvPath: string,
  waves: { percent: number; soakMinutes?: number }[],
) {
  const kv = await openKvFile(kvPath);
  try {
    await seedCatalog(kv);
    // The creator hears of a pause by an admin alert.
    await putUser(kv, "admin", { email: "admin@example.test" });
    const instances = await seedInstances(kv, 40);
    for (const i of instances) {
      await putUser(kv, i.ownerId, { email: `${i.ownerId}@example.test` });
    }
    const res = await scheduleAction(
      deps(kv, () => START),
      input(instances.map((i) => i.id), START, {
        scheduledAt: new Date(T).toISOString(),
        noticeLeadHours: 2,
        noticeChannels: ["email", "webapp"],
        waves,
        gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
      }),
      { id: "admin" },
    );
    const stages = res.stages.map((s) => Date.parse(s.scheduledAt));
    return { actionId: res.id, instances, stages };
  } finally {
    kv.close();
  }
}

async function onFile<R>(
  kvPath: string,
  fn: (kv: Deno.Kv) => Promise<R>,
): Promise<R> {
  const kv = await openKvFile(kvPath);
  try {
    return await fn(kv);
  } finally {
    kv.close();
  }
}

async function targetsOf(kv: Deno.Kv, actionId: string): Promise<Target[]> {
  return (await getTargetEntries(kv, await allTargetIdsOfAction(kv, actionId)))
    .map((e) => e.value);
}

/** How many times the worker's controller changed each instance. */
async function changes(kv: Deno.Kv, ids: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const id of ids) {
    const e = await kv.get<Deno.KvU64>(["fault_changes", id]);
    out.push(e.value ? Number(e.value.value) : 0);
  }
  return out;
}

async function listed(kv: Deno.Kv, prefix: Deno.KvKey): Promise<unknown[]> {
  return (await Array.fromAsync(kv.list({ prefix }))).map((e) => e.key);
}

async function withKvFile(name: string, fn: (kvPath: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: `kiloclaw-${name}-` });
  try {
    await fn(`${dir}/kv.sqlite3`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const faultTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

for (
  const [when, stopAt] of [
    ["nothing applied yet", "started:1"],
    ["3 of its 10 applied", "applied:3"],
  ] as const
) {
  faultTest(
    `kill -9 right after wave 1 started (${when}): the next ticks apply each instance once, and wave 2 waits for wave 1's gate`,
    () =>
      withKvFile("rollout-start-kill", async (kvPath) => {
        const { actionId, stages } = await rolloutOnFile(kvPath, [
          { percent: 25, soakMinutes: 0 },
          { percent: 25, soakMinutes: 0 },
          { percent: 100 },
        ]);
        const runs = [await apply(kvPath, [T], { stopAt })];
        // Every later wave's time has come before the next tick; the ones
        // stuck running since the kill go back to pending after 10 minutes.
        assert.ok(stages[2] <= T + 2 * MINUTE);
        const later = [T + 2 * MINUTE, T + 5 * MINUTE, T + 11 * MINUTE];
        for (let i = 1; i <= 4; i++) later.push(T + (11 + i) * MINUTE);
        runs.push(await apply(kvPath, later));

        await onFile(kvPath, async (kv) => {
          const ts = await targetsOf(kv, actionId);
          assert.equal(ts.length, 40);
          assert.deepEqual(
            await changes(kv, ts.map((t) => t.instanceId)),
            ts.map(() => 1),
            "each instance changed exactly once",
          );
          assert.deepEqual(
            await listed(kv, ["fault_early"]),
            [],
            "a wave changed an instance before the wave before it passed its gate",
          );
          for (const t of ts) {
            const inst = await kv.get<Instance>(keys.instance(t.instanceId));
            assert.equal(inst.value?.imageTag, "v2");
            assert.equal(t.status, "applied");
          }
          // Each wave started once, in order, whatever the kill interrupted.
          assert.deepEqual(phases(runs, "started"), ["0", "1", "2"]);
          const action = await kv.get<ScheduledAction>(keys.action(actionId));
          assert.equal(action.value?.status, "completed");
          const gates = (await getStageEntries(kv, actionId)).map((s) =>
            s.value.gate?.verdict
          );
          assert.deepEqual(gates.slice(0, 2), ["passed", "passed"]);
          // Webhooks heard each step once.
          const events = (await Array.fromAsync(
            kv.list<{ type: string; wave?: number }>({
              prefix: keys.webhookEvents(),
            }),
          )).map((e) =>
            `${e.value.type}${e.value.wave ? ` ${e.value.wave}` : ""}`
          )
            .filter((t) => t !== "action.scheduled");
          assert.deepEqual(events, [
            "action.started",
            "wave.completed 1",
            "wave.completed 2",
            "wave.completed 3",
            "action.completed",
          ]);
        });
      }),
  );
}

/** Every kind of row a sweep dispatched, as "kind stage channel target". */
function dispatched(d: RecordingDispatchers): string[] {
  return [...d.email.items, ...d.webapp.items].map((i) =>
    `${i.notification.kind} ${i.notification.stageIndex} ${i.notification.channel} ${i.notification.targetId}`
  );
}

for (
  const [when, stopAt] of [
    ["before the hold walk", "pause:1"],
    ["in the middle of the hold walk", "held:4"],
  ] as const
) {
  faultTest(
    `kill -9 right after the pause commit (${when}): the next tick finishes the hold, one on-hold notice per owner and channel warned, no later warning, no later wave`,
    () =>
      withKvFile("rollout-pause-kill", async (kvPath) => {
        // Wave 1 at T soaks an hour: wave 2 (T + 61 min) is warned before
        // the pause, wave 3 (T + 122 min) would be warned two minutes after it.
        const { actionId, stages } = await rolloutOnFile(kvPath, [
          { percent: 25, soakMinutes: 60 },
          { percent: 25, soakMinutes: 60 },
          { percent: 100 },
        ]);
        assert.deepEqual(stages.map((s) => (s - T) / MINUTE), [0, 61, 122]);
        const before = recordingDispatchers();
        await onFile(kvPath, (kv) =>
          sweep({ kv, dispatchers: before, now: () => T - 30 * MINUTE }));
        const warnedBefore = dispatched(before);
        assert.equal(
          warnedBefore.length,
          40,
          "waves 1 and 2, email and banner",
        );

        const runs = [
          await apply(kvPath, [T], { stopAt, unhealthy: ["v2"] }),
        ];
        await onFile(kvPath, async (kv) => {
          const a = await kv.get<ScheduledAction>(keys.action(actionId));
          assert.equal(a.value?.status, "paused");
          assert.ok(
            (await kv.get(keys.actionPausing(actionId))).value,
            "killed before the hold was done",
          );
        });
        runs.push(await apply(kvPath, [T + MINUTE], { unhealthy: ["v2"] }));

        const after: string[] = [];
        await onFile(kvPath, async (kv) => {
          assert.equal(
            (await kv.get(keys.actionPausing(actionId))).value,
            null,
            "the hold was finished",
          );
          for (const minutes of [2, 3, 60, 125, 300]) {
            const d = recordingDispatchers();
            await sweep({
              kv,
              dispatchers: d,
              now: () =>
                T + minutes * MINUTE,
            });
            after.push(...dispatched(d));
          }
          const ts = await targetsOf(kv, actionId);
          const wave = (i: number) => ts.filter((t) => t.stageIndex === i);
          // Exactly one on-hold notice per target and channel that warned it:
          // wave 2's owners, on email and the banner; wave 3 was never warned.
          const onHold = after.filter((r) => r.startsWith("on_hold "));
          assert.equal(onHold.length, 20);
          assert.deepEqual(
            [...new Set(onHold.map((r) => r.split(" ").slice(2).join(" ")))]
              .sort(),
            wave(1).flatMap((t) => [`email ${t.id}`, `webapp ${t.id}`]).sort(),
          );
          // No warning of a later wave after the pause, and none ever for wave 3.
          assert.deepEqual(
            after.filter((r) => /^(notice|reminder|rescheduled) [12] /.test(r)),
            [],
          );
          assert.deepEqual(
            [...warnedBefore, ...after].filter((r) =>
              wave(2).some((t) => r.endsWith(t.id))
            ),
            [],
          );
          // No later wave started: their owners' instances are untouched.
          assert.deepEqual(
            await changes(
              kv,
              [...wave(1), ...wave(2)].map((t) => t.instanceId),
            ),
            [...wave(1), ...wave(2)].map(() => 0),
          );
          assert.deepEqual(
            await changes(kv, wave(0).map((t) => t.instanceId)),
            [
              1,
              1,
              1,
              1,
              1,
              1,
              1,
              1,
              1,
              1,
            ],
          );
        });
        runs.push(
          await apply(kvPath, [T + 3 * HOUR, T + 6 * HOUR], {
            unhealthy: ["v2"],
          }),
        );
        assert.deepEqual(phases(runs, "started"), ["0"]);
        assert.deepEqual(phases(runs, "pause"), [actionId]);
        await onFile(kvPath, async (kv) => {
          const a = await kv.get<ScheduledAction>(keys.action(actionId));
          assert.equal(a.value?.status, "paused");
          const d = recordingDispatchers();
          await sweep({ kv, dispatchers: d, now: () => T + 7 * HOUR });
          assert.deepEqual(dispatched(d), []);
        });
      }),
  );
}

faultTest(
  "kill -9 between the gate's health reads and its verdict, failing: the next tick pauses once (one verdict, one audit entry, one alert, one event)",
  () =>
    withKvFile("rollout-gate-kill", async (kvPath) => {
      const { actionId } = await rolloutOnFile(kvPath, [
        { percent: 25, soakMinutes: 30 },
        { percent: 25, soakMinutes: 30 },
        { percent: 100 },
      ]);
      const runs = [
        await apply(kvPath, [T], { stopAt: "health:1", unhealthy: ["v2"] }),
      ];
      assert.deepEqual(phases(runs, "finished"), ["0"]);
      assert.deepEqual(phases(runs, "verdict"), []);
      runs.push(
        await apply(kvPath, [T + MINUTE, T + 2 * MINUTE, T + 2 * HOUR], {
          unhealthy: ["v2"],
        }),
      );
      assert.deepEqual(phases(runs, "verdict"), ["0:failed"]);
      assert.deepEqual(phases(runs, "pause"), [actionId]);
      assert.deepEqual(phases(runs, "started"), ["0"]);
      await onFile(kvPath, async (kv) => {
        const stage0 = (await getStageEntries(kv, actionId))[0].value;
        assert.equal(stage0.gate?.verdict, "failed");
        assert.equal(stage0.gate?.unhealthy, 10);
        assert.equal(
          (await listed(kv, keys.auditsByChange("action.pause"))).length,
          1,
        );
        assert.equal((await listed(kv, ["admin_alerts"])).length, 1);
        const events = (await Array.fromAsync(
          kv.list<{ type: string }>({ prefix: keys.webhookEvents() }),
        )).map((e) => e.value.type);
        assert.equal(events.filter((t) => t === "action.paused").length, 1);
        assert.deepEqual(await listed(kv, keys.stagesGateDue()), []);
      });
    }),
);

faultTest(
  "kill -9 between the gate's health reads and its verdict, passing: the next tick passes the wave once and the next wave starts once",
  () =>
    withKvFile("rollout-gate-kill", async (kvPath) => {
      const { actionId, stages } = await rolloutOnFile(kvPath, [
        { percent: 25, soakMinutes: 10 },
        { percent: 25, soakMinutes: 0 },
        { percent: 100 },
      ]);
      // Readings at T (the wave landed), T + 5 min, and T + 10 min (the soak's
      // end, which decides): the process dies in that last one.
      const runs = [
        await apply(kvPath, [T, T + 5 * MINUTE, T + 10 * MINUTE], {
          stopAt: "health:3",
        }),
      ];
      assert.deepEqual(phases(runs, "verdict"), []);
      const rest = [T + 10 * MINUTE, stages[1], stages[1] + MINUTE];
      for (let i = 0; i < 4; i++) rest.push(stages[2] + i * MINUTE);
      runs.push(await apply(kvPath, rest));
      assert.deepEqual(
        phases(runs, "verdict").filter((v) => v.startsWith("0:")),
        ["0:passed"],
      );
      assert.deepEqual(phases(runs, "started"), ["0", "1", "2"]);
      await onFile(kvPath, async (kv) => {
        const ts = await targetsOf(kv, actionId);
        assert.deepEqual(
          await changes(kv, ts.map((t) => t.instanceId)),
          ts.map(() => 1),
        );
        assert.deepEqual(await listed(kv, ["fault_early"]), []);
        const a = await kv.get<ScheduledAction>(keys.action(actionId));
        assert.equal(a.value?.status, "completed");
      });
    }),
);

faultTest(
  "kill -9 at each step of a three-wave rollout in turn: every instance changed once, each wave started once and after its gate, each gate decided once",
  () =>
    withKvFile("rollout-every-step", async (kvPath) => {
      const { actionId, stages } = await rolloutOnFile(kvPath, [
        { percent: 25, soakMinutes: 5 },
        { percent: 25, soakMinutes: 0 },
        { percent: 100 },
      ]);
      assert.deepEqual(stages.map((s) => (s - T) / MINUTE), [0, 6, 7]);
      // A tick a minute, long enough for targets stuck by a kill to come back.
      const clock = Array.from({ length: 45 }, (_, i) => T + i * MINUTE);
      const runs: Run[] = [];
      let from = 0;
      const plan: string[] = [];
      for (const nth of [1, 2]) {
        for (
          const p of ["started", "applied", "finished", "health", "verdict"]
        ) {
          plan.push(`${p}:${nth}`);
        }
      }
      for (const stopAt of plan) {
        const w = startWorker(WORKER, [
          kvPath,
          clock.slice(from).join(","),
          stopAt,
          "-",
        ]);
        const end = await w.waitFor(/^(stopped|done)$/, 60_000);
        if (end === "stopped") await w.kill();
        await w.done;
        runs.push({ lines: w.lines, killed: end === "stopped" });
        // The next process goes on from the minute the killed one was in.
        const last = w.lines.findLast((l) => l.startsWith("at "));
        if (last) from = clock.indexOf(Number(last.split(" ")[1]));
        if (end === "done") break;
      }
      // The rollout ends before the plan does (there is no third verdict).
      assert.ok(
        runs.filter((r) => r.killed).length >= 7,
        runs.map((r) => r.killed).join(" "),
      );
      runs.push(await apply(kvPath, clock.slice(from)));

      assert.deepEqual(phases(runs, "started"), ["0", "1", "2"]);
      assert.deepEqual(
        phases(runs, "verdict").sort(),
        ["0:passed", "1:passed"],
      );
      await onFile(kvPath, async (kv) => {
        const ts = await targetsOf(kv, actionId);
        assert.deepEqual(
          await changes(kv, ts.map((t) => t.instanceId)),
          ts.map(() => 1),
          "each instance changed exactly once",
        );
        assert.deepEqual(await listed(kv, ["fault_early"]), []);
        const a = await kv.get<ScheduledAction>(keys.action(actionId));
        assert.equal(a.value?.status, "completed");
        assert.deepEqual(await listed(kv, keys.stagesGateDue()), []);
        assert.deepEqual(await listed(kv, keys.stagesDue()), []);
      });
    }),
);
