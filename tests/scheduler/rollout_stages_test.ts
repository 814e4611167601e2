/**
 * What the other paths that change an action do to a rollout of several
 * stages: a move shifts every wave and tells each owner their own wave's new
 * time; a resume never lets a warning go for a wave's old time; cancelling
 * one instance of a later wave counts it in that wave and lets the wave and
 * its gate finish on the rest.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import {
  allTargetIdsOfAction,
  getStageCounts,
  getStageEntries,
  getTargetEntries,
} from "@/lib/kv/actions.ts";
import { putUser } from "@/lib/kv/users.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { rescheduleAction } from "@/lib/scheduler/reschedule.ts";
import { resumeAction } from "@/lib/scheduler/rollout_controls.ts";
import { cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { RescheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { keys } from "@/lib/kv/keys.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
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
import type { ScheduledAction, Target } from "@/lib/types.ts";

setQuietLogs(true);

const MINUTE = 60_000;
const START = Date.parse("2030-01-01T00:00:00Z");
const T = START + 3 * HOUR;
const WHO = {
  actor: { id: "admin", email: "admin@example.test" },
  via: "session" as const,
};

/**
 * 40 instances of 40 owners, a version change in waves of 10, 10 and 20 at
 * T (soaks of an hour, so wave 2 is at T + 61 min and wave 3 at T + 122
 * min), warned `leadHours` ahead on email.
 */
async function rollout(kv: Deno.Kv, leadHours: number) {
  await seedCatalog(kv);
  const instances = await seedInstances(kv, 40);
  for (const i of instances) {
    await putUser(kv, i.ownerId, { email: `${i.ownerId}@example.test` });
  }
  const res = await scheduleAction(
    deps(kv, () => START),
    input(instances.map((i) => i.id), START, {
      scheduledAt: new Date(T).toISOString(),
      noticeLeadHours: leadHours,
      noticeChannels: ["email"],
      waves: [
        { percent: 25, soakMinutes: 60 },
        { percent: 25, soakMinutes: 60 },
        { percent: 100 },
      ],
      gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
    }),
    { id: "admin" },
  );
  return res.id;
}

async function targets(kv: Deno.Kv, actionId: string): Promise<Target[]> {
  return (await getTargetEntries(kv, await allTargetIdsOfAction(kv, actionId)))
    .map((e) => e.value);
}

async function stageTimes(kv: Deno.Kv, actionId: string): Promise<number[]> {
  return (await getStageEntries(kv, actionId)).map((e) =>
    Date.parse(e.value.scheduledAt)
  );
}

/** What a sweep at `at` sent, as [kind, stage index, the time it told]. */
async function sweepAt(kv: Deno.Kv, at: number) {
  const d: RecordingDispatchers = recordingDispatchers();
  await sweep({ kv, dispatchers: d, now: () => at });
  return d.email.items.map((i) => ({
    kind: i.notification.kind,
    stage: i.notification.stageIndex,
    told: i.stage.scheduledAt,
    movedTo: i.notification.movedTo,
  }));
}

const tick = (kv: Deno.Kv, at: number, unhealthy: string[] = []) =>
  applyTick({
    kv,
    controller: embeddedController(kv, () => at, unhealthy),
    now: () => at,
  });

Deno.test("a move shifts every wave and keeps their spacing; each warned owner hears their own wave's new time; nothing goes or runs at the old times", () =>
  withKv(async (kv) => {
    const actionId = await rollout(kv, 24);
    const before = await stageTimes(kv, actionId);
    assert.deepEqual(before.map((t) => (t - T) / MINUTE), [0, 61, 122]);
    const warned = await sweepAt(kv, START + MINUTE);
    assert.equal(warned.length, 40);
    for (const w of warned) {
      assert.equal(Date.parse(w.told), before[w.stage]);
    }

    const DAY = 24 * HOUR;
    await rescheduleAction(
      deps(kv, () => START + 2 * MINUTE),
      actionId,
      RescheduleInputSchema.parse({
        scheduledAt: new Date(T + DAY).toISOString(),
      }),
    );
    const after = await stageTimes(kv, actionId);
    assert.deepEqual(after, before.map((t) => t + DAY));

    const moved = await sweepAt(kv, START + 3 * MINUTE);
    assert.equal(moved.length, 40);
    for (const m of moved) {
      assert.equal(m.kind, "rescheduled");
      assert.equal(Date.parse(m.movedTo!), after[m.stage]);
    }
    // At the old times: no warning, no change.
    for (const old of before) {
      assert.deepEqual(await sweepAt(kv, old - MINUTE), []);
      const run = await tick(kv, old);
      assert.equal(run.stages + run.applied, 0);
    }
    const a = (await kv.get<ScheduledAction>(keys.action(actionId))).value!;
    assert.equal(a.status, "scheduled");
  }));

Deno.test("a resume never lets a warning go for a wave's old time: wave 3, held before its warning, is warned once, for its new time", () =>
  withKv(async (kv) => {
    // Two hours' notice: wave 3 (T + 122 min) would be warned at T + 2 min.
    const actionId = await rollout(kv, 2);
    const [, , wave3] = await stageTimes(kv, actionId);
    const first = await sweepAt(kv, T - 30 * MINUTE);
    assert.deepEqual(
      [...new Set(first.map((w) => w.stage))].sort(),
      [0, 1],
    );
    const paused = await tick(kv, T, ["v2"]);
    assert.equal(paused.paused, 1);
    const resumeAt = T + 8 * HOUR;
    await resumeAction(
      deps(kv, () => T + HOUR),
      actionId,
      { scheduledAt: new Date(resumeAt).toISOString(), reason: null },
      WHO,
    );
    const [, newWave2, newWave3] = await stageTimes(kv, actionId);
    assert.equal(newWave2, resumeAt);

    const sent: Awaited<ReturnType<typeof sweepAt>> = [];
    // Every minute from the resume until wave 3's old time and a while after.
    for (let at = T + HOUR; at <= wave3 + 10 * MINUTE; at += 10 * MINUTE) {
      sent.push(...await sweepAt(kv, at));
    }
    const oldTimeWarnings = sent.filter((s) =>
      s.stage === 2 && s.kind !== "rescheduled" && Date.parse(s.told) === wave3
    );
    assert.deepEqual(oldTimeWarnings, []);
    assert.ok(newWave3 > wave3);
    // Its notice goes once its new lead window opens, telling the new time.
    const later = await sweepAt(kv, newWave3 - 2 * HOUR + MINUTE);
    const wave3Notices = [...sent, ...later].filter((s) =>
      s.stage === 2 && s.kind === "notice"
    );
    assert.equal(wave3Notices.length, 20);
    assert.ok(wave3Notices.every((s) => Date.parse(s.told) === newWave3));
  }));

Deno.test("cancelling one instance of a later wave counts it cancelled in that wave; the wave, its gate and the action finish on the rest", () =>
  withKv(async (kv) => {
    const actionId = await rollout(kv, 24);
    const ts = await targets(kv, actionId);
    const one = ts.find((t) => t.stageIndex === 1)!;
    await cancelTarget({ kv, now: () => START + MINUTE }, actionId, one.id);
    const times = await stageTimes(kv, actionId);
    for (const at of [T, T + 60 * MINUTE, times[1], times[1] + 60 * MINUTE]) {
      await tick(kv, at);
    }
    for (let at = times[2]; at <= times[2] + 5 * MINUTE; at += MINUTE) {
      await tick(kv, at);
    }
    const counts = await getStageCounts(kv, actionId);
    assert.deepEqual(
      [0, 1, 2].map((i) => {
        const c = counts.get(i)!;
        return [c.total, c.applied, c.cancelled];
      }),
      [[10, 10, 0], [10, 9, 1], [20, 20, 0]],
    );
    const stages = (await getStageEntries(kv, actionId)).map((e) => e.value);
    assert.deepEqual(stages.map((s) => s.status), [
      "completed",
      "completed",
      "completed",
    ]);
    assert.equal(stages[1].gate?.verdict, "passed");
    assert.equal(stages[1].gate?.checked, 9);
    const a = (await kv.get<ScheduledAction>(keys.action(actionId))).value!;
    assert.equal(a.status, "completed");
    const cancelled = (await targets(kv, actionId)).find((t) =>
      t.id === one.id
    )!;
    assert.equal(cancelled.skipReason, "cancelled");
  }));
