import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { MAX_TARGETS, ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import {
  getActionDetail,
  getPendingAction,
  listActions,
} from "@/lib/views/action_reads.ts";
import { ABANDONED_WRITE_MS, actionWriteState } from "@/lib/kv/actions.ts";
import { keys } from "@/lib/kv/keys.ts";
import { AppError, parseOrThrow } from "@/lib/errors.ts";
import {
  body,
  clock,
  countKeys,
  deps,
  faultyKv,
  HOUR,
  input,
  rid,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

const admin = { id: "admin-1" };

async function withKv(fn: (kv: Deno.Kv) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedCatalog(kv);
    await fn(kv);
  } finally {
    kv.close();
  }
}

async function rejects(p: Promise<unknown>, status: number, match: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${err}`);
    assert.equal(err.status, status, err.message);
    assert.match(err.message, match);
    return true;
  });
}

function parse(raw: unknown) {
  return parseOrThrow(ScheduleInputSchema, raw);
}

Deno.test("schedule: a version change creates one action, one stage and a target per instance with notices", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 3);
    const res = await scheduleAction(
      deps(kv, c.now),
      input(inst.map((i) => i.id), c.now()),
      admin,
    );
    assert.equal(res.targets.total, 3);
    assert.equal(res.action.status, "scheduled");
    assert.equal(res.stage.status, "pending");
    const detail = await getActionDetail(kv, res.id);
    assert.equal(detail.counters.total, 3);
    assert.deepEqual(
      detail.targets.items.map((t) => t.target.instanceId).sort(),
      inst.map((i) => i.id).sort(),
    );
    for (const { target, notifications } of detail.targets.items) {
      const owner = inst.find((i) => i.id === target.instanceId)!.ownerId;
      assert.equal(target.userId, owner);
      assert.equal(target.sourceImageTag, "v1");
      assert.equal(target.targetImageTag, "v2");
      assert.deepEqual(notifications.map((n) => n.channel).sort(), [
        "email",
        "mobile_push",
        "webapp",
      ]);
    }
    const pending = await getPendingAction(kv, inst[0].id);
    assert.equal(pending?.action.id, res.id);
    const listed = await listActions(kv, { limit: 10 });
    assert.equal(listed.items[0].action.id, res.id);
  });
});

Deno.test("schedule: defaults, notify off and channel choice are stored as given", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 2);
    const defaults = parse(body([inst[0].id], c.now()));
    assert.equal(defaults.notify, true);
    assert.equal(defaults.noticeLeadHours, 24);
    assert.deepEqual(defaults.noticeChannels, [
      "email",
      "webapp",
      "mobile_push",
    ]);
    const quiet = await scheduleAction(
      deps(kv, c.now),
      input([inst[0].id], c.now(), { notify: false }),
      admin,
    );
    const q = await getActionDetail(kv, quiet.id);
    assert.equal(q.action.notify, false);
    assert.equal(q.targets.items[0].notifications.length, 0);
    const emailOnly = await scheduleAction(
      deps(kv, c.now),
      input([inst[1].id], c.now(), {
        noticeChannels: ["email", "email"],
        actionType: "scheduled_restart",
      }),
      admin,
    );
    const e = await getActionDetail(kv, emailOnly.id);
    assert.equal(e.action.imageTag, null);
    assert.equal(e.targets.items[0].target.targetImageTag, "v1");
    assert.deepEqual(e.targets.items[0].notifications.map((n) => n.channel), [
      "email",
    ]);
  });
});

Deno.test("schedule: every invalid body is a 400 naming the field", async (t) => {
  const now = clock().now();
  const cases: [string, unknown, string][] = [
    ["empty instanceIds", body([], now), "instanceIds"],
    [
      "100,001 ids (one more than an action takes)",
      body(Array.from({ length: MAX_TARGETS + 1 }, (_, i) => `i${i}`), now),
      "instanceIds",
    ],
    [
      "neither ids nor selector",
      { ...body([], now), instanceIds: undefined },
      "instanceIds",
    ],
    [
      "both ids and selector",
      body(["a"], now, { selector: { imageTag: "v1" } }),
      "instanceIds",
    ],
    ["bad image tag", body(["a"], now, { imageTag: "-bad tag" }), "imageTag"],
    [
      "version change without tag",
      body(["a"], now, { imageTag: undefined }),
      "imageTag",
    ],
    [
      "unknown action type",
      body(["a"], now, { actionType: "reboot" }),
      "actionType",
    ],
    [
      "scheduledAt not ISO",
      body(["a"], now, { scheduledAt: "tomorrow" }),
      "scheduledAt",
    ],
    [
      "lead hours too long",
      body(["a"], now, { noticeLeadHours: 169 }),
      "noticeLeadHours",
    ],
    [
      "subject too long",
      body(["a"], now, { noticeSubject: "x".repeat(121) }),
      "noticeSubject",
    ],
    [
      "subject on two lines",
      body(["a"], now, {
        noticeSubject: "Planned\r\nBcc: everyone@example.com",
      }),
      "noticeSubject",
    ],
    [
      "body too long",
      body(["a"], now, { noticeBody: "x".repeat(2001) }),
      "noticeBody",
    ],
    ["no channel", body(["a"], now, { noticeChannels: [] }), "noticeChannels"],
    [
      "unknown channel",
      body(["a"], now, { noticeChannels: ["sms"] }),
      "noticeChannels",
    ],
    [
      "reason too long",
      body(["a"], now, { reason: "x".repeat(257) }),
      "reason",
    ],
  ];
  for (const [name, raw, field] of cases) {
    await t.step(name, () => {
      assert.throws(() => parse(raw), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.status, 400);
        assert.ok(
          err.issues?.some((i) => i.path.startsWith(field)),
          JSON.stringify(err.issues),
        );
        return true;
      });
    });
  }
});

Deno.test("schedule: time, tags and instances are checked against the clock and the data", async (t) => {
  await withKv(async (kv) => {
    const c = clock();
    const d = deps(kv, c.now);
    const inst = await seedInstances(kv, 2);
    const ids = inst.map((i) => i.id);
    await t.step(
      "in the past",
      () =>
        rejects(
          scheduleAction(
            d,
            input(ids, c.now(), {
              scheduledAt: new Date(c.now() - 1000).toISOString(),
            }),
            admin,
          ),
          400,
          /in the past/,
        ),
    );
    await t.step(
      "too soon",
      () =>
        rejects(
          scheduleAction(
            d,
            input(ids, c.now(), {
              scheduledAt: new Date(c.now() + 30_000).toISOString(),
            }),
            admin,
          ),
          400,
          /at least 60 seconds/,
        ),
    );
    await t.step(
      "unknown tag",
      () =>
        rejects(
          scheduleAction(d, input(ids, c.now(), { imageTag: "v9" }), admin),
          400,
          /v9 is not in the catalog/,
        ),
    );
    await t.step(
      "unavailable tag",
      () =>
        rejects(
          scheduleAction(
            d,
            input(ids, c.now(), { imageTag: "v3-retired" }),
            admin,
          ),
          400,
          /not available/,
        ),
    );
    await t.step(
      "unknown instances are named",
      () =>
        rejects(
          scheduleAction(
            d,
            input([...ids, "ghost-1", "ghost-2"], c.now()),
            admin,
          ),
          400,
          /ghost-1, ghost-2/,
        ),
    );
    await t.step("nothing was written by the failures", async () => {
      assert.equal(
        await countKeys(kv, keys.instancePendingTarget(ids[0]).slice(0, 1)),
        0,
      );
      assert.equal((await listActions(kv)).items.length, 0);
    });
  });
});

Deno.test("schedule: a version change leaves out instances pinned to another tag, unless overridePins", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedCatalog(kv);
    const c = clock();
    const free = await seedInstances(kv, 1);
    const pinnedAway = await seedInstances(kv, 1, { pinnedImageTag: "v1" });
    const pinnedToTarget = await seedInstances(kv, 1, { pinnedImageTag: "v2" });
    const ids = [...free, ...pinnedAway, ...pinnedToTarget].map((i) => i.id);
    const res = await scheduleAction(
      deps(kv, c.now),
      input(ids, c.now()),
      admin,
    );
    assert.deepEqual(res.excluded.pinned, [pinnedAway[0].id]);
    assert.equal(
      res.targets.total,
      2,
      "the free one and the one pinned to v2 itself",
    );
    const detail = await getActionDetail(kv, res.id);
    assert.ok(
      !detail.targets.items.some((t) =>
        t.target.instanceId === pinnedAway[0].id
      ),
    );

    const alone = await seedInstances(kv, 1, { pinnedImageTag: "v1" });
    await assert.rejects(
      () =>
        scheduleAction(deps(kv, c.now), input([alone[0].id], c.now()), admin),
      /every instance chosen is pinned to another tag \(set overridePins to change pinned ones\)/,
    );
    const forced = await scheduleAction(
      deps(kv, c.now),
      input([alone[0].id], c.now(), { overridePins: true }),
      admin,
    );
    assert.deepEqual(forced.excluded.pinned, []);
    assert.equal(forced.targets.total, 1);

    const restart = await seedInstances(kv, 1, { pinnedImageTag: "v1" });
    const r = await scheduleAction(
      deps(kv, c.now),
      input([restart[0].id], c.now(), { actionType: "scheduled_restart" }),
      admin,
    );
    assert.equal(r.targets.total, 1, "pins do not hold back a restart");
  } finally {
    kv.close();
  }
});

Deno.test("schedule: duplicates fold, destroyed instances are left out and reported", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const live = await seedInstances(kv, 2);
    const gone = await seedInstances(kv, 1, { status: "destroyed" });
    const res = await scheduleAction(
      deps(kv, c.now),
      input([live[0].id, live[0].id, live[1].id, gone[0].id], c.now()),
      admin,
    );
    assert.equal(res.targets.total, 2);
    assert.deepEqual(res.excluded.destroyed, [gone[0].id]);
    await rejects(
      scheduleAction(deps(kv, c.now), input([gone[0].id], c.now()), admin),
      400,
      /destroyed/,
    );
  });
});

Deno.test("schedule: a selector takes every running instance on the tag", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const tag = rid("tag");
    const on = await seedInstances(kv, 3, { imageTag: tag });
    await seedInstances(kv, 1, { imageTag: tag, status: "destroyed" });
    await seedInstances(kv, 2, { imageTag: "v1" });
    const res = await scheduleAction(
      deps(kv, c.now),
      parse({
        actionType: "scheduled_restart",
        selector: { imageTag: tag },
        scheduledAt: new Date(c.now() + HOUR).toISOString(),
      }),
      admin,
    );
    const detail = await getActionDetail(kv, res.id);
    assert.deepEqual(
      detail.targets.items.map((t) => t.target.instanceId).sort(),
      on.map((i) => i.id).sort(),
    );
    await rejects(
      scheduleAction(
        deps(kv, c.now),
        parse({
          actionType: "scheduled_restart",
          selector: { imageTag: "nothing-here" },
          scheduledAt: new Date(c.now() + HOUR).toISOString(),
        }),
        admin,
      ),
      400,
      /no running instance/,
    );
  });
});

Deno.test("schedule: an instance with a pending target is a 409 naming it", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 3);
    await scheduleAction(deps(kv, c.now), input([inst[1].id], c.now()), admin);
    await rejects(
      scheduleAction(
        deps(kv, c.now),
        input(inst.map((i) => i.id), c.now()),
        admin,
      ),
      409,
      new RegExp(`pending scheduled action: ${inst[1].id}$`),
    );
    // The loser left nothing: the other two are still free.
    const res = await scheduleAction(
      deps(kv, c.now),
      input([inst[0].id, inst[2].id], c.now()),
      admin,
    );
    assert.equal(res.targets.total, 2);
    assert.equal((await listActions(kv)).items.length, 2);
  });
});

Deno.test("schedule: two concurrent schedules of one instance end with one action", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 1);
    const results = await Promise.allSettled([
      scheduleAction(deps(kv, c.now), input([inst[0].id], c.now()), admin),
      scheduleAction(deps(kv, c.now), input([inst[0].id], c.now()), {
        id: "admin-2",
      }),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const lost = results.find((r) =>
      r.status === "rejected"
    ) as PromiseRejectedResult;
    assert.equal((lost.reason as AppError).status, 409);
    assert.equal((await listActions(kv)).items.length, 1);
  });
});

Deno.test("schedule: two concurrent overlapping large schedules end with exactly one action", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 400);
    const ids = inst.map((i) => i.id);
    const results = await Promise.allSettled([
      scheduleAction(deps(kv, c.now), input(ids.slice(0, 300), c.now()), admin),
      scheduleAction(deps(kv, c.now), input(ids.slice(100), c.now()), admin),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    const listed = await listActions(kv);
    assert.equal(listed.items.length, 1);
    // Locks held are exactly the winner's targets.
    assert.equal(
      await countKeys(kv, ["instance_pending_target"]),
      listed.items[0].counters.total,
    );
  });
});

Deno.test("schedule: a failure midway through the chunked write leaves nothing and frees the instances", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 600);
    const ids = inst.map((i) => i.id);
    const before = {
      targets: await countKeys(kv, ["targets"]),
      rows: await countKeys(kv, ["notifications"]),
      due: await countKeys(kv, ["notifications_due"]),
    };
    // Commit 1 is the marker; 4 lands among the lock and row commits.
    await assert.rejects(
      scheduleAction(deps(faultyKv(kv, 4), c.now), input(ids, c.now()), admin),
      /injected/,
    );
    assert.equal((await listActions(kv)).items.length, 0);
    assert.equal(await countKeys(kv, ["targets"]), before.targets);
    assert.equal(await countKeys(kv, ["notifications"]), before.rows);
    assert.equal(await countKeys(kv, ["notifications_due"]), before.due);
    assert.equal(await countKeys(kv, ["instance_pending_target"]), 0);
    assert.equal(await countKeys(kv, keys.actionWrites()), 0);
    const res = await scheduleAction(
      deps(kv, c.now),
      input(ids, c.now()),
      admin,
    );
    assert.equal(res.targets.total, 600);
  });
});

Deno.test("schedule: a crashed write stays invisible, blocks nobody once abandoned, and the apply tick purges it", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 300);
    const ids = inst.map((i) => i.id);
    // From commit 3 on every commit fails, clean-up included: what a crash leaves.
    await assert.rejects(
      scheduleAction(
        deps(faultyKv(kv, 3, true), c.now),
        input(ids, c.now()),
        admin,
      ),
      /injected/,
    );
    const [marker] = await Array.fromAsync(
      kv.list<{ actionId: string }>({ prefix: keys.actionWrites() }),
    );
    const crashed = marker.value.actionId;
    assert.equal(await actionWriteState(kv, crashed, c.now()), "in_progress");
    assert.ok(await countKeys(kv, ["instance_pending_target"]) > 0);
    assert.equal((await listActions(kv)).items.length, 0);
    assert.equal(await getPendingAction(kv, ids[0]), null);
    // While it may still be running, its instances are taken.
    await rejects(
      scheduleAction(deps(kv, c.now), input([ids[0]], c.now()), admin),
      409,
      new RegExp(ids[0]),
    );
    c.advance(ABANDONED_WRITE_MS);
    assert.equal(await actionWriteState(kv, crashed, c.now()), "abandoned");
    // A schedule meeting its locks purges it and goes ahead.
    const res = await scheduleAction(
      deps(kv, c.now),
      input([ids[0]], c.now()),
      admin,
    );
    assert.equal(res.targets.total, 1);
    assert.equal(await countKeys(kv, keys.actionWrites()), 0);
    assert.equal(await countKeys(kv, ["instance_pending_target"]), 1);
    assert.equal(await countKeys(kv, keys.targetsByAction(crashed)), 0);
    assert.equal(await countKeys(kv, ["notifications"]), 3);
  });
});

Deno.test("apply tick purges an abandoned write nobody met", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const inst = await seedInstances(kv, 150);
    await assert.rejects(
      scheduleAction(
        deps(faultyKv(kv, 3, true), c.now),
        input(inst.map((i) => i.id), c.now()),
        admin,
      ),
      /injected/,
    );
    c.advance(ABANDONED_WRITE_MS);
    await applyTick({
      kv,
      controller: embeddedController(kv, c.now),
      now: c.now,
    });
    assert.equal(await countKeys(kv, keys.actionWrites()), 0);
    assert.equal(await countKeys(kv, ["instance_pending_target"]), 0);
    assert.equal(await countKeys(kv, ["targets"]), 0);
    assert.equal(await countKeys(kv, ["notifications"]), 0);
    assert.equal(await countKeys(kv, ["notifications_due"]), 0);
  });
});
