/**
 * Rollouts in waves, through the scheduler's own code: the plan, the apply
 * per wave, the health gate (the embedded controller reports instances on
 * an "unhealthy" tag as unhealthy), the pause and what owners of later
 * waves hear, and the admin's resume, abort and roll back.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import {
  allTargetIdsOfAction,
  getStageCounts,
  getStageEntries,
  getTargetEntries,
} from "@/lib/kv/actions.ts";
import { rescheduleAction } from "@/lib/scheduler/reschedule.ts";
import { cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  allHealthy,
  clock,
  deps,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import {
  abortAction,
  resumeAction,
  rollbackAction,
} from "@/lib/scheduler/rollout_controls.ts";
import { putUser } from "@/lib/kv/users.ts";
import { getRow } from "../helpers/notice_fixtures.ts";
import { planWaves } from "@/lib/scheduler/waves.ts";
import { slackText } from "@/lib/webhooks/slack_text.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";

setQuietLogs(true);
import type { InstanceController } from "@/lib/apply/controller.ts";
import type {
  Instance,
  Notification,
  ScheduledAction,
  Target,
} from "@/lib/types.ts";

const MINUTE = 60_000;
const DAY = 24 * HOUR;
const ADMIN = { id: "admin", email: "admin@example.test", name: "Ada" };
const WHO = {
  actor: { id: "admin", email: "admin@example.test" },
  via: "session" as const,
};

async function owners(kv: Deno.Kv, instances: Instance[]) {
  for (const i of [...new Set(instances.map((i) => i.ownerId))]) {
    await putUser(kv, i, { email: `${i}@example.test` });
  }
}

async function targets(kv: Deno.Kv, actionId: string): Promise<Target[]> {
  return (await getTargetEntries(kv, await allTargetIdsOfAction(kv, actionId)))
    .map((e) => e.value);
}

async function rowsOf(kv: Deno.Kv, targetId: string): Promise<Notification[]> {
  const out: Notification[] = [];
  for await (
    const e of kv.list<string>({ prefix: keys.notificationsByTarget(targetId) })
  ) out.push(await getRow(kv, e.value));
  return out;
}

async function action(kv: Deno.Kv, id: string): Promise<ScheduledAction> {
  return (await kv.get<ScheduledAction>(keys.action(id))).value!;
}

const THREE_WAVES = {
  waves: [
    { percent: 10, soakMinutes: 60 },
    { percent: 30, soakMinutes: 60 },
    { percent: 100 },
  ],
  gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
};

/** 100 instances on v1, warned on email and banner, a 3-wave change to v2 an hour ahead. */
async function rollout(kv: Deno.Kv, extra: Record<string, unknown> = {}) {
  await seedCatalog(kv);
  const c = clock();
  const instances = await seedInstances(kv, 100);
  await owners(kv, instances);
  const res = await scheduleAction(
    deps(kv, c.now),
    input(instances.map((i) => i.id), c.now(), {
      noticeChannels: ["email", "webapp"],
      ...THREE_WAVES,
      ...extra,
    }),
    { id: "admin" },
  );
  return { c, instances, res, actionId: res.id };
}

const bad = (kv: Deno.Kv, now: () => number) =>
  embeddedController(kv, now, ["v2"]);

Deno.test("waves: each instance in one wave, the canary first, times spaced by the apply estimate and the soak", () =>
  withKv(async (kv) => {
    await assert.rejects(
      rollout(kv, {
        waves: [{ instanceIds: ["x"], soakMinutes: 30 }, { percent: 100 }],
      }),
      /hand-picked first wave names instances that are not among the action's instances: x/,
    );
    const plan = planWaves(
      "a1",
      [{ id: "i1" }, { id: "i2" }, { id: "i3" }, {
        id: "i4",
      }],
      [
        { instanceIds: ["i3"], soakMinutes: 30 },
        { count: 2, soakMinutes: 10 },
        {
          percent: 100,
          soakMinutes: 0,
        },
      ],
      Date.parse("2030-01-01T00:00:00Z"),
      8,
    );
    assert.deepEqual(plan.map((w) => w.instanceIds.length), [1, 2, 1]);
    assert.deepEqual(plan[0].instanceIds, ["i3"]);
    assert.deepEqual(
      plan.map((w) => w.scheduledAt),
      [
        "2030-01-01T00:00:00.000Z",
        "2030-01-01T00:31:00.000Z",
        "2030-01-01T00:42:00.000Z",
      ],
    );
    // The same plan for the same action: stable.
    const again = planWaves(
      "a1",
      [{ id: "i4" }, { id: "i2" }, { id: "i1" }, {
        id: "i3",
      }],
      [
        { instanceIds: ["i3"], soakMinutes: 30 },
        { count: 2, soakMinutes: 10 },
        {
          percent: 100,
          soakMinutes: 0,
        },
      ],
      Date.parse("2030-01-01T00:00:00Z"),
      8,
    );
    assert.deepEqual(
      again.map((w) => w.instanceIds),
      plan.map((w) => w.instanceIds),
    );
  }));

Deno.test("waves: a hand-picked canary is wave 1; every target is told its own wave's time", () =>
  withKv(async (kv) => {
    await seedCatalog(kv);
    const c = clock();
    const instances = await seedInstances(kv, 20);
    await owners(kv, instances);
    const canary = [instances[7].id, instances[3].id];
    const res = await scheduleAction(
      deps(kv, c.now),
      input(instances.map((i) => i.id), c.now(), {
        noticeChannels: ["email"],
        waves: [{ instanceIds: canary, soakMinutes: 120 }, { percent: 100 }],
        gate: { maxFailedPercent: 0, maxUnhealthyPercent: 0 },
      }),
      { id: "admin" },
    );
    assert.equal(res.stages.length, 2);
    const ts = await targets(kv, res.id);
    assert.deepEqual(
      ts.filter((t) => t.stageIndex === 0).map((t) => t.instanceId).sort(),
      [...canary].sort(),
    );
    assert.equal(ts.filter((t) => t.stageIndex === 1).length, 18);
    const stages = (await getStageEntries(kv, res.id)).map((e) => e.value);
    // Wave 2: an hour after now, plus a minute of apply, plus the soak.
    assert.equal(
      Date.parse(stages[1].scheduledAt) - Date.parse(stages[0].scheduledAt),
      121 * MINUTE,
    );
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: c.now });
    const told = new Map(
      d.email.items.map((i) => [i.notification.targetId, i.stage.scheduledAt]),
    );
    for (const t of ts) {
      assert.equal(told.get(t.id), stages[t.stageIndex].scheduledAt);
    }
  }));

Deno.test("rollout: an unhealthy canary pauses it after wave 1; later owners get one on-hold notice and are never changed", () =>
  withKv(async (kv) => {
    const { c, actionId } = await rollout(kv);
    const d = recordingDispatchers();
    // The lead (24 h) is longer than the hour left: every owner is warned now.
    await sweep({ kv, dispatchers: d, now: c.now });
    assert.equal(d.email.items.length, 100);
    const t0 = c.now() + HOUR;
    const mail: { to: string; subject: string; text: string }[] = [];
    const first = await applyTick({
      kv,
      controller: bad(kv, () => t0),
      now: () => t0,
      config: {
        adminEmails: ["ops@example.test"],
        publicUrl: "https://scheduler.example.test",
      },
      email: {
        name: "recording",
        send: (m) => {
          mail.push(m);
          return Promise.resolve({ ok: true, id: `m${mail.length}` });
        },
        sendBatch: () => Promise.reject(new Error("not used")),
      },
    });
    assert.equal(first.applied, 10);
    assert.equal(first.paused, 1);
    const a = await action(kv, actionId);
    assert.equal(a.status, "paused");
    const stages = (await getStageEntries(kv, actionId)).map((e) => e.value);
    assert.deepEqual(stages.map((s) => s.status), [
      "completed",
      "pending",
      "pending",
    ]);
    assert.equal(stages[0].gate?.verdict, "failed");
    assert.equal(stages[0].gate?.unhealthy, 10);
    assert.equal(stages[0].gate?.unhealthyPercent, 100);
    assert.equal(
      await kv.get(keys.actionPausing(actionId)).then((e) => e.value),
      null,
    );
    // The audit and the admin alert were written with the pause.
    const audits = [];
    for await (
      const e of kv.list({ prefix: keys.auditsByChange("action.pause") })
    ) {
      audits.push(e);
    }
    assert.equal(audits.length, 1);
    // The admin alert went out in the same tick, and was then dropped.
    assert.deepEqual(mail.map((m) => m.to), ["ops@example.test"]);
    assert.equal(mail[0].subject, "KiloClaw: rollout paused after wave 1");
    assert.match(
      mail[0].text,
      /Paused: wave 1 — 0 of 10 failed, 10 unhealthy, over the 5 % gate/,
    );
    assert.match(
      mail[0].text,
      /https:\/\/scheduler\.example\.test\/admin\/actions\//,
    );
    const alerts = [];
    for await (const e of kv.list({ prefix: ["admin_alerts"] })) alerts.push(e);
    assert.equal(alerts.length, 0);

    // Webhooks hear of the wave and the pause, in that order.
    const events: { type: string; wave?: number }[] = [];
    for await (
      const e of kv.list<{ type: string; wave?: number }>({
        prefix: keys.webhookEvents(),
      })
    ) events.push(e.value);
    assert.deepEqual(
      events.filter((e) => e.type !== "action.scheduled").map((e) =>
        `${e.type}:${e.wave ?? ""}`
      ),
      ["action.started:", "wave.completed:1", "action.paused:1"],
    );
    const ts = await targets(kv, actionId);
    const later = ts.filter((t) => t.stageIndex > 0);
    assert.equal(later.length, 90);
    const d2 = recordingDispatchers();
    await sweep({ kv, dispatchers: d2, now: () => t0 + MINUTE });
    const onHold = [...d2.email.items, ...d2.webapp.items].filter((i) =>
      i.notification.kind === "on_hold"
    );
    // One per owner and channel that warned them: email and banner.
    assert.equal(onHold.length, 180);
    assert.equal(
      new Set(
        onHold.map((i) =>
          `${i.notification.targetId}:${i.notification.channel}`
        ),
      ).size,
      180,
    );
    // A second sweep and later ticks send nothing more and change nothing.
    const d3 = recordingDispatchers();
    await sweep({ kv, dispatchers: d3, now: () => t0 + 2 * MINUTE });
    assert.equal(d3.email.items.length + d3.webapp.items.length, 0);
    const later5h = t0 + 5 * HOUR;
    const idle = await applyTick({
      kv,
      controller: bad(kv, () => later5h),
      now: () => later5h,
    });
    assert.equal(idle.applied + idle.stages, 0);
    for (const t of later) {
      const inst = (await kv.get<Instance>(keys.instance(t.instanceId))).value!;
      assert.equal(inst.imageTag, "v1");
    }
    // No warning of a later wave was left pending to fire at its old time.
    for (const t of later) {
      for (const r of await rowsOf(kv, t.id)) {
        assert.ok(
          !(r.status === "pending" &&
            (r.kind === "notice" || r.kind === "reminder")),
          `${r.kind} ${r.channel} still pending`,
        );
      }
    }
  }));

Deno.test("rollout: resume at a new time moves the later waves; their owners hear the new time; waves 2 and 3 run", () =>
  withKv(async (kv) => {
    const { c, actionId } = await rollout(kv);
    await sweep({ kv, dispatchers: recordingDispatchers(), now: c.now });
    const t0 = c.now() + HOUR;
    await applyTick({ kv, controller: bad(kv, () => t0), now: () => t0 });
    await sweep({
      kv,
      dispatchers: recordingDispatchers(),
      now: () => t0 + MINUTE,
    });
    const before = (await getStageEntries(kv, actionId)).map((e) => e.value);
    const resumeAt = t0 + 6 * HOUR;
    const report = await resumeAction(
      deps(kv, () => t0 + 2 * HOUR),
      actionId,
      { scheduledAt: new Date(resumeAt).toISOString(), reason: "fixed" },
      WHO,
    );
    assert.equal(report.action.status, "running");
    assert.equal(report.moved, 90);
    const after = (await getStageEntries(kv, actionId)).map((e) => e.value);
    assert.equal(after[1].scheduledAt, new Date(resumeAt).toISOString());
    // The spacing between the later waves is kept.
    assert.equal(
      Date.parse(after[2].scheduledAt) - Date.parse(after[1].scheduledAt),
      Date.parse(before[2].scheduledAt) - Date.parse(before[1].scheduledAt),
    );
    assert.equal(after[0].gate?.verdict, "failed");
    assert.ok(after[0].gate?.resumedAt);
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => t0 + 2 * HOUR + MINUTE });
    const moved = d.email.items.filter((i) =>
      i.notification.kind === "rescheduled"
    );
    assert.equal(moved.length, 90);
    assert.ok(
      moved.every((i) =>
        i.notification.movedTo === after[i.notification.stageIndex].scheduledAt
      ),
    );
    // The build is fixed: nothing is unhealthy any more.
    const good = (now: number) => ({
      kv,
      controller: embeddedController(kv, () => now),
      now: () => now,
    });
    const w2 = await applyTick(good(resumeAt));
    assert.equal(w2.applied, 30);
    // Wave 3 waits for wave 2's soak and its gate.
    const early = await applyTick(
      good(Date.parse(after[2].scheduledAt) - MINUTE),
    );
    assert.equal(early.applied, 0);
    const t3 = Date.parse(after[2].scheduledAt);
    const w3 = await applyTick(good(t3));
    assert.equal(w3.applied, 60);
    assert.equal((await action(kv, actionId)).status, "completed");
    const final = (await getStageEntries(kv, actionId)).map((e) => e.value);
    assert.equal(final[1].gate?.verdict, "passed");
    assert.equal(final[1].gate?.healthy, 30);
  }));

Deno.test("rollout: abort cancels what is left, tells warned owners, and says after which wave", () =>
  withKv(async (kv) => {
    const { c, actionId } = await rollout(kv);
    await sweep({ kv, dispatchers: recordingDispatchers(), now: c.now });
    const t0 = c.now() + HOUR;
    await applyTick({ kv, controller: bad(kv, () => t0), now: () => t0 });
    const out = await abortAction(
      { kv, now: () => t0 + MINUTE },
      actionId,
      "bad build",
      ADMIN,
      WHO,
    );
    assert.equal(out.action.status, "cancelled");
    assert.equal(out.abortedAfterWave, 1);
    const ts = await targets(kv, actionId);
    assert.equal(
      ts.filter((t) => t.status === "skipped" && t.skipReason === "cancelled")
        .length,
      90,
    );
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => t0 + 2 * MINUTE });
    const kinds = [...d.email.items, ...d.webapp.items].map((i) =>
      i.notification.kind
    );
    // The on-hold notices not sent yet give way to the cancellation.
    assert.equal(kinds.filter((k) => k === "cancelled").length, 180);
    assert.equal(kinds.filter((k) => k === "on_hold").length, 0);
  }));

Deno.test("rollout: roll back moves the changed instances back to their tag; a restart cannot be rolled back", () =>
  withKv(async (kv) => {
    const { c, actionId } = await rollout(kv);
    const t0 = c.now() + HOUR;
    await applyTick({ kv, controller: bad(kv, () => t0), now: () => t0 });
    const back = await rollbackAction(
      { kv, now: () => t0 + MINUTE, config: deps(kv, c.now).config },
      actionId,
      null,
      ADMIN,
      WHO,
    );
    assert.equal(back.targets.total, 10);
    assert.equal(back.action.rollbackOf, actionId);
    assert.match(
      back.action.noticeBody ?? "",
      /back to OpenClaw 1\.0\.0 after a problem with OpenClaw 2\.0\.0/,
    );
    assert.equal((await action(kv, actionId)).status, "cancelled");
    const ts = await targets(kv, back.id);
    assert.ok(ts.every((t) => t.targetImageTag === "v1"));
    const at = Date.parse(back.stage.scheduledAt);
    const run = await applyTick({
      kv,
      controller: embeddedController(kv, () => at),
      now: () => at,
    });
    assert.equal(run.applied, 10);
    for (const t of ts) {
      const inst = (await kv.get<Instance>(keys.instance(t.instanceId))).value!;
      assert.equal(inst.imageTag, "v1");
    }
    const restart = await rollout(kv, { actionType: "scheduled_restart" })
      .catch(() => null);
    if (restart) {
      await assert.rejects(
        rollbackAction(
          { kv, now: restart.c.now, config: deps(kv, c.now).config },
          restart.actionId,
          null,
          ADMIN,
          WHO,
        ),
        /only a version change can be rolled back/,
      );
    }
  }));

Deno.test("gate: exactly at the limit passes; one more failure pauses", async () => {
  for (const [failing, paused] of [[5, false], [6, true]] as const) {
    await withKv(async (kv) => {
      await seedCatalog(kv);
      const c = clock();
      const instances = await seedInstances(kv, 200);
      await owners(kv, instances);
      const res = await scheduleAction(
        deps(kv, c.now),
        input(instances.map((i) => i.id), c.now(), {
          notify: false,
          waves: [{ count: 100, soakMinutes: 0 }, { percent: 100 }],
          gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
        }),
        { id: "admin" },
      );
      const wave1 = (await targets(kv, res.id)).filter((t) =>
        t.stageIndex === 0
      ).slice(0, failing).map((t) => t.instanceId);
      const t0 = c.now() + HOUR;
      const embedded = embeddedController(kv, () => t0);
      const controller: InstanceController = {
        name: "some fail",
        health: allHealthy,
        restart: (i, o) => embedded.restart(i, o),
        changeVersion: (i, tag, o) =>
          wave1.includes(i.id)
            ? Promise.resolve({
              ok: false,
              transient: false,
              error: "disk full",
            })
            : embedded.changeVersion(i, tag, o),
      };
      const run = await applyTick({ kv, controller, now: () => t0 });
      assert.equal(run.failed, failing);
      const stage0 = (await getStageEntries(kv, res.id))[0].value;
      assert.equal(stage0.gate?.verdict, paused ? "failed" : "passed");
      assert.equal(stage0.gate?.failedPercent, failing);
      assert.equal(
        (await action(kv, res.id)).status,
        paused ? "paused" : "running",
      );
      const t1 = Date.parse(
        (await getStageEntries(kv, res.id))[1].value.scheduledAt,
      );
      const next = await applyTick({ kv, controller, now: () => t1 });
      assert.equal(next.applied, paused ? 0 : 100);
    });
  }
});

Deno.test("a wave never starts before the one before it has soaked and passed its gate, even when its own time has come", async () => {
  for (const gate of [null, { maxFailedPercent: 5, maxUnhealthyPercent: 5 }]) {
    await withKv(async (kv) => {
      await seedCatalog(kv);
      const c = clock();
      const instances = await seedInstances(kv, 20);
      await owners(kv, instances);
      const res = await scheduleAction(
        deps(kv, c.now),
        input(instances.map((i) => i.id), c.now(), {
          notify: false,
          waves: [{ count: 10, soakMinutes: 60 }, { percent: 100 }],
          gate,
        }),
        { id: "admin" },
      );
      const [s0, s1] = res.stages.map((s) => Date.parse(s.scheduledAt));
      assert.equal(s1 - s0, 61 * MINUTE);
      const tick = (now: number) =>
        applyTick({
          kv,
          controller: embeddedController(kv, () => now),
          now: () => now,
        });
      // Wave 1 is applied half an hour late: its soak ends at s0 + 90 min.
      assert.equal((await tick(s0 + 30 * MINUTE)).applied, 10);
      assert.equal((await tick(s1)).applied, 0);
      assert.equal((await tick(s0 + 89 * MINUTE)).applied, 0);
      const stage0 = (await getStageEntries(kv, res.id))[0].value;
      assert.equal(stage0.gate?.verdict ?? null, null);
      assert.equal((await tick(s0 + 90 * MINUTE)).applied, 10);
      assert.equal((await action(kv, res.id)).status, "completed");
      if (gate) {
        const passed = (await getStageEntries(kv, res.id))[0].value.gate;
        assert.equal(passed?.verdict, "passed");
        assert.equal(passed?.healthy, 10);
      }
    });
  }
});

Deno.test("a chat alert says which wave paused the rollout and how it went", () => {
  const text = slackText({
    type: "action.paused",
    timestamp: "2030-01-01T00:00:00.000Z",
    data: {
      action: {
        id: "a1",
        actionType: "version_change",
        status: "paused",
        imageTag: "v2",
        scheduledAt: null,
        reason: null,
        url: "https://s.example/admin/actions/a1",
      },
      counts: { total: 10, applied: 7, skipped: 0, failed: 3 },
      wave: 1,
    },
  });
  assert.equal(
    text,
    ":double_vertical_bar: The version change to v2 paused after wave 1: 3 of 10 failed; its health gate stopped the rollout. <https://s.example/admin/actions/a1|Open the action>",
  );
});

Deno.test("a move of a rollout moves every wave by the same amount; each warned owner hears their own wave's old and new time; cancelling one instance counts in its wave", () =>
  withKv(async (kv) => {
    const { c, actionId } = await rollout(kv);
    await sweep({ kv, dispatchers: recordingDispatchers(), now: c.now });
    const before = (await getStageEntries(kv, actionId)).map((e) => e.value);
    const report = await rescheduleAction(
      deps(kv, c.now),
      actionId,
      {
        scheduledAt: new Date(Date.parse(before[0].scheduledAt) + DAY)
          .toISOString(),
        reason: null,
      },
    );
    assert.equal(report.moved, 100);
    const after = (await getStageEntries(kv, actionId)).map((e) => e.value);
    after.forEach((s, i) =>
      assert.equal(
        Date.parse(s.scheduledAt) - Date.parse(before[i].scheduledAt),
        DAY,
      )
    );
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => c.now() + 1000 });
    const moved = d.email.items.filter((i) =>
      i.notification.kind === "rescheduled"
    );
    assert.equal(moved.length, 100);
    for (const i of moved) {
      const k = i.notification.stageIndex;
      assert.equal(i.notification.movedFrom, before[k].scheduledAt);
      assert.equal(i.notification.movedTo, after[k].scheduledAt);
    }
    const wave3 = (await targets(kv, actionId)).find((t) =>
      t.stageIndex === 2
    )!;
    await cancelTarget({ kv, now: c.now }, actionId, wave3.id);
    const counts = await getStageCounts(kv, actionId);
    assert.deepEqual(
      [0, 1, 2].map((i) => counts.get(i)?.cancelled ?? 0),
      [0, 0, 1],
    );
    assert.equal(
      [0, 1, 2].reduce((n, i) => n + (counts.get(i)?.total ?? 0), 0),
      100,
    );
  }));
