import { allHealthy } from "../helpers/scheduling.ts";
import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { cancelAction, cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { applyTick } from "@/lib/jobs.ts";
import { MAX_APPLY_ATTEMPTS } from "@/lib/apply/decide.ts";
import { STUCK_RUNNING_MS } from "@/lib/apply/recover.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import type {
  ControllerResult,
  InstanceController,
} from "@/lib/apply/controller.ts";
import { getActionDetail, getPendingAction } from "@/lib/views/action_reads.ts";
import { getInstanceDetail } from "@/lib/views/instance_reads.ts";
import { getInstance, updateInstance } from "@/lib/kv/instances.ts";
import { keys } from "@/lib/kv/keys.ts";
import { CANCELLED_BEFORE_DISPATCH } from "@/lib/notices/rows.ts";
import { AppError } from "@/lib/errors.ts";
import type { Notification, Target } from "@/lib/types.ts";
import {
  clock,
  countKeys,
  deps,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

const admin = { id: "admin-1" };

async function setup(
  count: number,
  extra: Record<string, unknown> = {},
  seed = {},
) {
  const kv = await Deno.openKv(":memory:");
  await seedCatalog(kv);
  const c = clock();
  const inst = await seedInstances(kv, count, seed);
  const res = await scheduleAction(
    deps(kv, c.now),
    input(inst.map((i) => i.id), c.now(), extra),
    admin,
  );
  return { kv, c, inst, actionId: res.id };
}

async function targets(kv: Deno.Kv, actionId: string): Promise<Target[]> {
  return (await getActionDetail(kv, actionId, { targetLimit: 500 })).targets
    .items.map((t) => t.target);
}

function apply(
  kv: Deno.Kv,
  c: ReturnType<typeof clock>,
  controller?: InstanceController,
) {
  return applyTick({
    kv,
    now: c.now,
    controller: controller ?? embeddedController(kv, c.now),
  });
}

async function rejects(p: Promise<unknown>, status: number, match: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.status, status, err.message);
    assert.match(err.message, match);
    return true;
  });
}

Deno.test("cancel all: every pending target skipped, notices voided, instances free; a second call answers the same", async () => {
  const { kv, c, inst, actionId } = await setup(3);
  try {
    const first = await cancelAction({ kv, now: c.now }, actionId);
    assert.equal(first.action.status, "cancelled");
    assert.equal(first.counters.skipped, 3);
    const detail = await getActionDetail(kv, actionId);
    assert.equal(detail.stages[0].status, "cancelled");
    for (const { target, notifications } of detail.targets.items) {
      assert.equal(target.status, "skipped");
      assert.equal(target.skipReason, "cancelled");
      assert.ok(
        notifications.every((n) =>
          n.status === "failed" && n.error === CANCELLED_BEFORE_DISPATCH
        ),
      );
    }
    assert.equal(await getPendingAction(kv, inst[0].id), null);
    assert.equal(await countKeys(kv, ["notifications_due"]), 0);
    c.advance(HOUR);
    const second = await cancelAction({ kv, now: c.now }, actionId);
    assert.deepEqual(second, first);
    // Nothing is applied at the scheduled time.
    const tick = await apply(kv, c);
    assert.equal(tick.applied, 0);
    assert.equal((await getInstance(kv, inst[0].id))!.imageTag, "v1");
  } finally {
    kv.close();
  }
});

Deno.test("cancel all queues a cancellation for a notice already sent", async () => {
  const { kv, c, actionId } = await setup(1, { noticeChannels: ["email"] });
  try {
    const [t] = await targets(kv, actionId);
    const [row] =
      (await getActionDetail(kv, actionId)).targets.items[0].notifications;
    // What the sweep leaves once the email went out.
    await kv.atomic().set(
      keys.notification(row.id),
      { ...row, status: "sent" } satisfies Notification,
    )
      .delete(keys.notificationDue(row.dueAt, row)).commit();
    await cancelAction({ kv, now: c.now }, actionId);
    const rows =
      (await getActionDetail(kv, actionId)).targets.items[0].notifications;
    assert.deepEqual(rows.map((r) => `${r.kind}:${r.status}`).sort(), [
      "cancelled:pending",
      "notice:sent",
    ]);
    assert.equal(rows.find((r) => r.kind === "cancelled")!.targetId, t.id);
  } finally {
    kv.close();
  }
});

Deno.test("cancel one target: the others are applied at the scheduled time; a second call answers the same", async () => {
  const { kv, c, inst, actionId } = await setup(3);
  try {
    const [first] = await targets(kv, actionId);
    const once = await cancelTarget({ kv, now: c.now }, actionId, first.id);
    assert.equal(once.target.status, "skipped");
    assert.equal(once.target.skipReason, "cancelled");
    assert.deepEqual(
      await cancelTarget({ kv, now: c.now }, actionId, first.id),
      once,
    );
    c.advance(HOUR);
    const tick = await apply(kv, c);
    assert.deepEqual({ applied: tick.applied, skipped: tick.skipped }, {
      applied: 2,
      skipped: 0,
    });
    const detail = await getActionDetail(kv, actionId);
    assert.equal(detail.action.status, "completed");
    assert.deepEqual(detail.counters, {
      total: 3,
      applied: 2,
      skipped: 1,
      failed: 0,
    });
    const tags = await Promise.all(
      inst.map(async (i) => [i.id, (await getInstance(kv, i.id))!.imageTag]),
    );
    for (const [id, tag] of tags) {
      assert.equal(tag, id === first.instanceId ? "v1" : "v2");
    }
    await rejects(
      cancelTarget(
        { kv, now: c.now },
        actionId,
        detail.targets.items.find((t) => t.target.status === "applied")!.target
          .id,
      ),
      409,
      /already finished: applied/,
    );
  } finally {
    kv.close();
  }
});

Deno.test("cancelling every target one by one calls the whole action off", async () => {
  const { kv, c, actionId } = await setup(2);
  try {
    const [a, b] = await targets(kv, actionId);
    const first = await cancelTarget({ kv, now: c.now }, actionId, a.id);
    assert.equal(first.action.status, "scheduled", "one target is still to go");
    const last = await cancelTarget({ kv, now: c.now }, actionId, b.id);
    assert.equal(last.action.status, "cancelled");
    assert.deepEqual(
      await cancelTarget({ kv, now: c.now }, actionId, b.id),
      last,
    );
    const detail = await getActionDetail(kv, actionId);
    assert.equal(detail.action.status, "cancelled");
    assert.deepEqual(detail.stages.map((s) => s.status), ["cancelled"]);
    c.advance(HOUR);
    const tick = await apply(kv, c);
    assert.equal(tick.stages, 0, "nothing is left to apply");
    assert.equal(
      (await getActionDetail(kv, actionId)).action.status,
      "cancelled",
    );
  } finally {
    kv.close();
  }
});

Deno.test("cancelling a finished action is a 409; unknown ids are 404", async () => {
  const { kv, c, actionId } = await setup(1);
  try {
    c.advance(HOUR);
    await apply(kv, c);
    await rejects(
      cancelAction({ kv, now: c.now }, actionId),
      409,
      /already completed; a finished action cannot be cancelled/,
    );
    await rejects(cancelAction({ kv, now: c.now }, "nope"), 404, /not found/);
    await rejects(
      cancelTarget({ kv, now: c.now }, actionId, "nope"),
      404,
      /not found/,
    );
  } finally {
    kv.close();
  }
});

Deno.test("apply: nothing before the time; then a version change moves tags, a restart stamps lastRestartAt", async () => {
  const { kv, c, inst, actionId } = await setup(2);
  try {
    c.advance(HOUR - 1000);
    assert.equal((await apply(kv, c)).stages, 0);
    c.advance(1000);
    const tick = await apply(kv, c);
    assert.deepEqual(tick, {
      stages: 1,
      gates: 0,
      paused: 0,
      healthCalls: 0,
      applied: 2,
      skipped: 0,
      failed: 0,
      recovered: 0,
    });
    const detail = await getActionDetail(kv, actionId);
    assert.equal(detail.action.status, "completed");
    assert.equal(detail.stages[0].status, "completed");
    assert.equal((await getInstance(kv, inst[0].id))!.imageTag, "v2");
    assert.equal(await getPendingAction(kv, inst[0].id), null);
    assert.equal(
      (await getInstanceDetail(kv, inst[0].id)).history[0].target.status,
      "applied",
    );

    const r = await scheduleAction(
      deps(kv, c.now),
      input([inst[0].id], c.now(), { actionType: "scheduled_restart" }),
      admin,
    );
    c.advance(HOUR);
    await apply(kv, c);
    const after = (await getInstance(kv, inst[0].id))!;
    assert.equal(after.lastRestartAt, new Date(c.now()).toISOString());
    assert.equal(after.imageTag, "v2");
    assert.equal((await getActionDetail(kv, r.id)).action.status, "completed");
  } finally {
    kv.close();
  }
});

Deno.test("apply: instances pinned after scheduling are skipped unless overridePins; destroyed ones are skipped", async () => {
  const { kv, c, inst, actionId } = await setup(2);
  try {
    for (const i of inst) {
      await updateInstance(kv, i.id, (x) => ({ ...x, pinnedImageTag: "v1" }));
    }
    const other = await seedInstances(kv, 2, { pinnedImageTag: "v1" });
    const override = await scheduleAction(
      deps(kv, c.now),
      input(other.map((i) => i.id), c.now(), { overridePins: true }),
      admin,
    );
    await updateInstance(
      kv,
      other[1].id,
      (i) => ({ ...i, status: "destroyed" }),
    );
    c.advance(HOUR);
    await apply(kv, c);
    const skipped = await targets(kv, actionId);
    assert.ok(
      skipped.every((t) => t.status === "skipped" && t.skipReason === "pinned"),
    );
    assert.equal((await getInstance(kv, inst[0].id))!.imageTag, "v1");
    assert.equal(
      (await getActionDetail(kv, actionId)).action.status,
      "completed",
    );
    const o = await targets(kv, override.id);
    assert.equal(
      o.find((t) => t.instanceId === other[0].id)!.status,
      "applied",
    );
    const gone = o.find((t) => t.instanceId === other[1].id)!;
    assert.equal(gone.skipReason, "destroyed");
    assert.equal((await getInstance(kv, other[0].id))!.imageTag, "v2");
  } finally {
    kv.close();
  }
});

Deno.test("apply: overridePins moves a pinned instance and removes its pin in the same write", async () => {
  const { kv, c } = await setup(1);
  try {
    const [pinned] = await seedInstances(kv, 1, { pinnedImageTag: "v1" });
    const r = await scheduleAction(
      deps(kv, c.now),
      input([pinned.id], c.now(), { overridePins: true }),
      admin,
    );
    c.advance(HOUR);
    await apply(kv, c);
    const [t] = await targets(kv, r.id);
    assert.equal(t.status, "applied");
    const after = (await getInstance(kv, pinned.id))!;
    assert.equal(after.imageTag, "v2");
    assert.equal(after.pinnedImageTag, null, "pinned to v1 while running v2");
  } finally {
    kv.close();
  }
});

Deno.test("apply: overridePins skips an instance whose pin changed since scheduling (pin_changed_in_flight), leaving it as it is", async () => {
  const { kv, c } = await setup(1);
  try {
    const [pinned] = await seedInstances(kv, 1, { pinnedImageTag: "v1" });
    const r = await scheduleAction(
      deps(kv, c.now),
      input([pinned.id], c.now(), { overridePins: true }),
      admin,
    );
    // Someone pins it elsewhere after the action was scheduled.
    await updateInstance(
      kv,
      pinned.id,
      (i) => ({ ...i, pinnedImageTag: "v3-retired" }),
    );
    c.advance(HOUR);
    await apply(kv, c);
    const [t] = await targets(kv, r.id);
    assert.equal(t.status, "skipped");
    assert.equal(t.skipReason, "pin_changed_in_flight");
    const after = (await getInstance(kv, pinned.id))!;
    assert.equal(after.imageTag, "v1");
    assert.equal(after.pinnedImageTag, "v3-retired");
  } finally {
    kv.close();
  }
});

Deno.test("apply: a pin set while the change is in flight is a skip, not an overwrite", async () => {
  const { kv, c, inst, actionId } = await setup(1);
  try {
    const real = embeddedController(kv, c.now);
    const pinning: InstanceController = {
      ...real,
      async changeVersion(instance, tag, opts) {
        await updateInstance(
          kv,
          instance.id,
          (i) => ({ ...i, pinnedImageTag: "v1" }),
        );
        return real.changeVersion(instance, tag, opts);
      },
    };
    c.advance(HOUR);
    await apply(kv, c, pinning);
    const [t] = await targets(kv, actionId);
    assert.equal(t.skipReason, "pin_changed_in_flight");
    assert.equal((await getInstance(kv, inst[0].id))!.imageTag, "v1");
  } finally {
    kv.close();
  }
});

Deno.test("apply: transient controller failures are retried on later ticks; permanent ones fail; all failed fails the action", async () => {
  const { kv, c, actionId } = await setup(2, {
    actionType: "scheduled_restart",
  });
  try {
    const [a] = await targets(kv, actionId);
    const calls = new Map<string, number>();
    const flaky: InstanceController = {
      name: "flaky",
      health: allHealthy,
      restart(instance): Promise<ControllerResult> {
        const n = (calls.get(instance.id) ?? 0) + 1;
        calls.set(instance.id, n);
        if (instance.id === a.instanceId) {
          return Promise.resolve(
            n < 2
              ? { ok: false, transient: true, error: "503 busy" }
              : { ok: true },
          );
        }
        return Promise.resolve({
          ok: false,
          transient: false,
          error: "400 instance is broken",
        });
      },
      changeVersion: () => Promise.reject(new Error("not used")),
    };
    c.advance(HOUR);
    const t1 = await apply(kv, c, flaky);
    assert.deepEqual({ applied: t1.applied, failed: t1.failed }, {
      applied: 0,
      failed: 1,
    });
    let list = await targets(kv, actionId);
    assert.equal(list.find((t) => t.id === a.id)!.status, "pending");
    assert.equal(list.find((t) => t.id === a.id)!.error, "503 busy");
    assert.equal(
      (await getActionDetail(kv, actionId)).action.status,
      "running",
    );
    c.advance(60_000);
    const t2 = await apply(kv, c, flaky);
    assert.equal(t2.applied, 1);
    list = await targets(kv, actionId);
    assert.equal(list.find((t) => t.id === a.id)!.status, "applied");
    assert.equal(
      list.find((t) => t.id !== a.id)!.error,
      "400 instance is broken",
    );
    assert.equal(
      (await getActionDetail(kv, actionId)).action.status,
      "completed",
    );

    // Every target failing fails the action.
    const other = await setup(1, { actionType: "scheduled_restart" });
    try {
      const down: InstanceController = {
        name: "down",
        health: allHealthy,
        restart: () =>
          Promise.resolve({ ok: false, transient: true, error: "timeout" }),
        changeVersion: () => Promise.reject(new Error("not used")),
      };
      for (let i = 0; i < MAX_APPLY_ATTEMPTS; i++) {
        other.c.advance(HOUR);
        await apply(other.kv, other.c, down);
      }
      const d = await getActionDetail(other.kv, other.actionId);
      assert.equal(d.action.status, "failed");
      assert.equal(d.stages[0].status, "failed");
      assert.equal(d.targets.items[0].target.error, "timeout");
    } finally {
      other.kv.close();
    }
  } finally {
    kv.close();
  }
});

Deno.test("apply: a target stuck in running (its applier crashed) is recovered and applied", async () => {
  const { kv, c, inst, actionId } = await setup(1);
  try {
    // What a crash leaves: stage and action started, the target claimed, its result never recorded.
    c.advance(HOUR);
    const d = await getActionDetail(kv, actionId);
    const t = d.targets.items[0].target;
    const at = new Date(c.now()).toISOString();
    await kv.atomic()
      .set(keys.target(t.id), {
        ...t,
        status: "running",
        claimedAt: at,
        attempts: 1,
      })
      .set(keys.targetRunning(c.now(), t.id), null)
      .set(keys.stage(actionId, 0), {
        ...d.stages[0],
        status: "running",
        startedAt: at,
      })
      .set(keys.action(actionId), {
        ...d.action,
        status: "running",
        startedAt: at,
      })
      .commit();
    const early = await apply(kv, c);
    assert.equal(early.recovered, 0);
    c.advance(STUCK_RUNNING_MS);
    const tick = await apply(kv, c);
    assert.equal(tick.recovered, 1);
    assert.equal(tick.applied, 1);
    assert.equal((await getInstance(kv, inst[0].id))!.imageTag, "v2");
    assert.equal(
      (await getActionDetail(kv, actionId)).action.status,
      "completed",
    );
  } finally {
    kv.close();
  }
});

Deno.test("cancel racing apply over many targets: each target ends applied or cancelled, never both", async () => {
  const { kv, c, inst, actionId } = await setup(400);
  try {
    c.advance(HOUR);
    const ids = (await targets(kv, actionId)).map((t) => t.id);
    const slow = embeddedController(kv, c.now);
    const yielding: InstanceController = {
      ...slow,
      async changeVersion(i, tag, o) {
        await new Promise((r) => setTimeout(r, 1));
        return slow.changeVersion(i, tag, o);
      },
    };
    const [tick] = await Promise.all([
      applyTick({ kv, now: c.now, controller: yielding, concurrency: 4 }),
      (async () => {
        await new Promise((r) => setTimeout(r, 15));
        // From the back: the apply claims from the front, a batch at a time.
        for (const id of ids.slice(200).reverse()) {
          await cancelTarget({ kv, now: c.now }, actionId, id).catch((err) => {
            if (!(err instanceof AppError && err.status === 409)) throw err;
          });
        }
      })(),
    ]);
    const final = await targets(kv, actionId);
    const applied = final.filter((t) => t.status === "applied");
    const cancelled = final.filter((t) =>
      t.status === "skipped" && t.skipReason === "cancelled"
    );
    assert.equal(applied.length + cancelled.length, 400);
    assert.ok(cancelled.length > 0, "the cancel should win some targets");
    assert.ok(applied.length >= 200);
    for (const t of cancelled) {
      assert.equal(
        (await getInstance(kv, t.instanceId))!.imageTag,
        "v1",
        "a cancelled target's instance must not change",
      );
    }
    for (const t of applied) {
      assert.equal((await getInstance(kv, t.instanceId))!.imageTag, "v2");
    }
    const counters = (await getActionDetail(kv, actionId)).counters;
    assert.deepEqual(counters, {
      total: 400,
      applied: applied.length,
      skipped: cancelled.length,
      failed: 0,
    });
    assert.ok(tick.applied === applied.length);
    assert.equal(
      await countKeys(kv, ["instance_pending_target"]),
      0,
      String(inst.length),
    );
  } finally {
    kv.close();
  }
});

Deno.test("cancel all racing apply: targets end applied or cancelled and the counters add up", async () => {
  const { kv, c, actionId } = await setup(150);
  try {
    c.advance(HOUR);
    const real = embeddedController(kv, c.now);
    const yielding: InstanceController = {
      ...real,
      async changeVersion(i, tag, o) {
        await new Promise((r) => setTimeout(r, 1));
        return real.changeVersion(i, tag, o);
      },
    };
    await Promise.all([
      applyTick({ kv, now: c.now, controller: yielding, concurrency: 4 }),
      (async () => {
        await new Promise((r) => setTimeout(r, 20));
        await cancelAction({ kv, now: c.now }, actionId);
      })(),
    ]);
    const final = await targets(kv, actionId);
    for (const t of final) {
      assert.ok(
        t.status === "applied" ||
          (t.status === "skipped" && t.skipReason === "cancelled"),
        `${t.status}`,
      );
      assert.equal(
        (await getInstance(kv, t.instanceId))!.imageTag,
        t.status === "applied" ? "v2" : "v1",
      );
    }
    const d = await getActionDetail(kv, actionId);
    assert.equal(d.action.status, "cancelled");
    assert.equal(d.counters.applied + d.counters.skipped, 150);
  } finally {
    kv.close();
  }
});

Deno.test("two applies at once over 300 due targets: each instance is changed once, every target applied once", async () => {
  const { kv, c, actionId } = await setup(300, {
    actionType: "scheduled_restart",
  });
  try {
    c.advance(HOUR);
    // A first tick starts the stage and meets a busy controller: every
    // target is back to pending, its stage running, for both applies to take.
    const busy: InstanceController = {
      name: "busy",
      health: allHealthy,
      restart: () =>
        Promise.resolve({ ok: false, transient: true, error: "busy" }),
      changeVersion: () =>
        Promise.resolve({ ok: false, transient: true, error: "busy" }),
    };
    await applyTick({ kv, now: c.now, controller: busy });
    c.advance(60_000);
    const calls = new Map<string, number>();
    const real = embeddedController(kv, c.now);
    const counting: InstanceController = {
      ...real,
      async restart(i, o) {
        calls.set(i.id, (calls.get(i.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 1));
        return real.restart(i, o);
      },
    };
    const [a, b] = await Promise.all([
      applyTick({ kv, now: c.now, controller: counting }),
      applyTick({ kv, now: c.now, controller: counting }),
    ]);
    assert.equal(
      a.applied + b.applied,
      300,
      "each target counted by one apply",
    );
    assert.equal(calls.size, 300);
    assert.ok([...calls.values()].every((n) => n === 1), "no instance twice");
    const final = await targets(kv, actionId);
    assert.ok(final.every((t) => t.status === "applied"));
    const detail = await getActionDetail(kv, actionId);
    assert.equal(detail.action.status, "completed");
    assert.deepEqual(detail.counters, {
      total: 300,
      applied: 300,
      skipped: 0,
      failed: 0,
    });
  } finally {
    kv.close();
  }
});
