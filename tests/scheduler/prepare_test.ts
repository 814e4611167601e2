/**
 * A large action's background write (`preparing`): answered at once, written
 * owner by owner, nothing sent or applied until it is whole, resumed after a
 * crash without writing an instance twice, stopped by a cancel, and taking
 * up to MAX_TARGETS instances in one action.
 */
import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { MAX_TARGETS } from "@/lib/scheduler/schemas.ts";
import {
  PREPARE_LEASE_MS,
  preparingProgress,
} from "@/lib/scheduler/prepare_plan.ts";
import { resumePreparedWrites } from "@/lib/scheduler/prepare_resume.ts";
import { runPreparedWrite } from "@/lib/scheduler/prepare.ts";
import { cancelAction } from "@/lib/scheduler/cancel_targets.ts";
import { applyDue } from "@/lib/apply/apply.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { getActionCounters } from "@/lib/kv/actions.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putUser } from "@/lib/kv/users.ts";
import { testConfig } from "@/lib/config.ts";
import { BadRequestError } from "@/lib/errors.ts";
import type { ScheduleDeps } from "@/lib/scheduler/schedule_checks.ts";
import type { Notification, ScheduledAction, Target } from "@/lib/types.ts";
import { aroundCommits, withKv } from "../helpers/kv.ts";
import {
  clock,
  countKeys,
  faultyKv,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import {
  allDispatchedIds,
  recordingDispatchers,
} from "../helpers/dispatchers.ts";
import { assertCountersMatchRows } from "../helpers/counters.ts";

const LIMIT = 100;

/** Schedule deps whose background write is left to the test. */
function largeDeps(
  kv: Deno.Kv,
  now: () => number,
  inline = LIMIT,
): ScheduleDeps & { started: string[]; holders: string[] } {
  const started: string[] = [];
  const holders: string[] = [];
  return {
    kv,
    now,
    config: testConfig({
      scheduleMinAheadSeconds: 60,
      scheduleInlineTargets: inline,
    }),
    startBackgroundWrite: (id, holder) => {
      started.push(id);
      holders.push(holder);
    },
    started,
    holders,
  };
}

async function fleetOf(kv: Deno.Kv, count: number) {
  await seedCatalog(kv);
  const instances = await seedInstances(kv, count, { prefix: "big" });
  for (const owner of new Set(instances.map((i) => i.ownerId))) {
    await putUser(kv, owner, { email: `${owner}@example.test` });
  }
  return instances;
}

/** A restart an hour ahead, warned by email and banner four hours ahead: due at once. */
const restart = (ids: string[], now: number) =>
  input(ids, now, {
    actionType: "scheduled_restart",
    notify: true,
    noticeLeadHours: 4,
    noticeChannels: ["email", "webapp"],
  });

async function targetsOf(kv: Deno.Kv, actionId: string): Promise<Target[]> {
  const out: Target[] = [];
  for await (
    const e of kv.list({ prefix: keys.targetsByAction(actionId) })
  ) {
    out.push((await kv.get<Target>(keys.target(e.key[2] as string))).value!);
  }
  return out;
}

async function rowsOf(kv: Deno.Kv, actionId: string) {
  const out: Notification[] = [];
  for await (
    const e of kv.list<Notification>({ prefix: keys.notifications() })
  ) {
    if (e.value.actionId === actionId) out.push(e.value);
  }
  return out;
}

/** Every instance once: one target, one lock naming it, one row per channel. */
async function assertWrittenOnce(
  kv: Deno.Kv,
  actionId: string,
  instanceIds: string[],
) {
  const targets = await targetsOf(kv, actionId);
  assert.deepEqual(
    targets.map((t) => t.instanceId).sort(),
    [...instanceIds].sort(),
    "one target per instance",
  );
  for (const t of targets) {
    const lock = await kv.get<{ targetId: string }>(
      keys.instancePendingTarget(t.instanceId),
    );
    assert.equal(lock.value?.targetId, t.id, `the lock of ${t.instanceId}`);
  }
  const rows = await rowsOf(kv, actionId);
  assert.equal(rows.length, targets.length * 2, "an email and a banner each");
  const seen = new Set(rows.map((r) => `${r.targetId}/${r.channel}`));
  assert.equal(seen.size, rows.length, "no row twice");
}

Deno.test("preparing: a large schedule answers at once; nothing is sent or applied until it is written whole; a crash mid-write resumes without writing an instance twice", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const instances = await fleetOf(kv, 300);
    const d = largeDeps(kv, c.now);
    const res = await scheduleAction(
      d,
      restart(instances.map((i) => i.id), c.now()),
      { id: "admin" },
    );
    assert.equal(res.action.status, "preparing");
    assert.deepEqual(res.preparing, { written: 0, total: 300, leftOut: 0 });
    assert.deepEqual(d.started, [res.id], "the write was started");
    assert.equal(await countKeys(kv, keys.stagesDue()), 0, "no stage is due");

    // The process dies part-way: some commits landed, the rest never will.
    await assert.rejects(
      runPreparedWrite(
        { kv: faultyKv(kv, 4, true), now: c.now },
        res.id,
        d.holders[0],
      ),
    );
    const half = await preparingProgress(
      kv,
      (await kv.get<ScheduledAction>(keys.action(res.id))).value!,
    );
    assert.ok(
      half && half.written > 0 && half.written < 300,
      `${half?.written} written`,
    );

    // Meanwhile: the sweep sends nothing, the apply starts nothing, even past the time.
    const d1 = recordingDispatchers();
    const swept = await sweep({ kv, dispatchers: d1, now: c.now });
    assert.equal(
      allDispatchedIds(d1).length,
      0,
      "nothing sent while preparing",
    );
    assert.ok(swept.deferred > 0, "its rows wait");
    const applied = await applyDue({
      kv,
      controller: embeddedController(kv, () => c.now() + 2 * HOUR),
      now: () => c.now() + 2 * HOUR,
    });
    assert.equal(applied.applied ?? 0, 0, "nothing applied while preparing");
    assert.equal(
      (await kv.get<ScheduledAction>(keys.action(res.id))).value!.status,
      "preparing",
    );

    // While the dead runner's lease holds, nobody takes over; after it, the tick does.
    assert.equal(await resumePreparedWrites({ kv, now: c.now }), 0);
    c.advance(PREPARE_LEASE_MS + 1);
    assert.equal(await resumePreparedWrites({ kv, now: c.now }), 1);
    const done = (await kv.get<ScheduledAction>(keys.action(res.id))).value!;
    assert.equal(done.status, "scheduled");
    assert.equal(done.preparing?.total, 300);
    assert.equal(done.preparing?.leftOut, 0);
    assert.equal((await getActionCounters(kv, res.id)).total, 300);
    assert.equal(await countKeys(kv, keys.stagesDue()), 1, "its stage is due");
    assert.equal(
      await countKeys(kv, keys.actionPrepares()),
      0,
      "the job ended",
    );
    assert.equal(await countKeys(kv, keys.prepareChunks()), 0, "no part left");
    await assertWrittenOnce(kv, res.id, instances.map((i) => i.id));
    await assertCountersMatchRows(kv, res.id, "a resumed background write");

    // Now every owner hears once.
    const d2 = recordingDispatchers();
    await sweep({ kv, dispatchers: d2, now: c.now });
    const emails = d2.email.dispatchedIds();
    assert.equal(emails.length, 300);
    assert.equal(new Set(emails).size, 300, "no email row twice");
    const owners = new Set(instances.map((i) => i.ownerId));
    assert.equal(
      d2.email.calls.length >= 1 &&
        new Set(d2.email.items.map((i) => i.notification.userId)).size,
      owners.size,
    );
  });
});

Deno.test("preparing: a cancel stops the write; what was written is skipped, every lock let go, nothing sent", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const instances = await fleetOf(kv, 250);
    const d = largeDeps(kv, c.now);
    const res = await scheduleAction(
      d,
      restart(instances.map((i) => i.id), c.now()),
      { id: "admin" },
    );
    await assert.rejects(
      runPreparedWrite(
        { kv: faultyKv(kv, 3, true), now: c.now },
        res.id,
        d.holders[0],
      ),
    );
    const written = (await getActionCounters(kv, res.id)).total;
    assert.ok(written > 0 && written < 250);

    const cancelled = await cancelAction({ kv, now: c.now }, res.id);
    assert.equal(cancelled.action.status, "cancelled");
    // The write's runner (or the tick) finds it cancelled and stops.
    c.advance(PREPARE_LEASE_MS + 1);
    assert.equal(await runPreparedWrite({ kv, now: c.now }, res.id), "stopped");
    assert.equal(await countKeys(kv, keys.actionPrepares()), 0);
    assert.equal(await countKeys(kv, keys.prepareChunks()), 0);
    assert.equal(
      (await getActionCounters(kv, res.id)).total,
      written,
      "nothing more written",
    );
    const targets = await targetsOf(kv, res.id);
    assert.ok(targets.every((t) => t.skipReason === "cancelled"));
    assert.equal(
      await countKeys(kv, keys.instancePendingTargets()),
      0,
      "no lock left",
    );
    await assertCountersMatchRows(kv, res.id, "a cancel during preparing");

    const d1 = recordingDispatchers();
    await sweep({ kv, dispatchers: d1, now: c.now });
    assert.equal(
      allDispatchedIds(d1).length,
      0,
      "nobody was warned, so nobody is told",
    );

    // The instances are free for the next action.
    const again = await scheduleAction(
      largeDeps(kv, c.now, 10_000),
      restart(instances.map((i) => i.id), c.now()),
      { id: "admin" },
    );
    assert.equal(again.action.status, "scheduled");
  });
});

Deno.test("preparing: an instance another action takes meanwhile is left out and counted; a second runner is turned away while the first holds the lease", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const instances = await fleetOf(kv, 200);
    const ids = instances.map((i) => i.id);
    const res = await scheduleAction(
      largeDeps(kv, c.now),
      restart(ids, c.now()),
      {
        id: "admin",
      },
    );
    // A small action takes five of them before the large one writes them.
    const small = await scheduleAction(
      largeDeps(kv, c.now, 10_000),
      restart(ids.slice(10, 15), c.now()),
      { id: "admin" },
    );
    assert.equal(small.action.status, "scheduled");
    // A schedule now meets the preparing action's locks as any other's.
    await assert.rejects(
      scheduleAction(
        largeDeps(kv, c.now, 10_000),
        restart(ids.slice(10, 15), c.now()),
        {
          id: "admin",
        },
      ),
      (err: Error) => /pending/.test(err.message),
    );

    const holder = "runner-a";
    const [a, b] = await Promise.all([
      runPreparedWrite({ kv, now: c.now }, res.id, holder),
      runPreparedWrite({ kv, now: c.now }, res.id, "runner-b"),
    ]);
    // The job was leased to the process that scheduled it: both others wait for its lease.
    assert.deepEqual([a, b].sort(), ["busy", "busy"]);
    c.advance(PREPARE_LEASE_MS + 1);
    const [x, y] = await Promise.all([
      runPreparedWrite({ kv, now: c.now }, res.id, holder),
      runPreparedWrite({ kv, now: c.now }, res.id, "runner-b"),
    ]);
    assert.ok([x, y].includes("done"), `${x} ${y}`);
    const action = (await kv.get<ScheduledAction>(keys.action(res.id))).value!;
    assert.equal(action.status, "scheduled");
    assert.equal(action.preparing?.leftOut, 5);
    assert.equal((await getActionCounters(kv, res.id)).total, 195);
    await assertWrittenOnce(
      kv,
      res.id,
      ids.filter((_, i) => i < 10 || i >= 15),
    );
    await assertCountersMatchRows(
      kv,
      res.id,
      "a write with instances taken meanwhile",
    );
  });
});

Deno.test("preparing: a tag-wide schedule larger than 10,000 instances is one action; above MAX_TARGETS it is a 400 naming the selector", async () => {
  await withKv(async (kv) => {
    const c = clock();
    await seedCatalog(kv);
    await seedInstances(kv, 10_050, { prefix: "tag", imageTag: "v1" });
    const d = largeDeps(kv, c.now, 10_000);
    const res = await scheduleAction(
      d,
      input([], c.now(), {
        instanceIds: undefined,
        selector: { imageTag: "v1" },
      }),
      { id: "admin" },
    );
    assert.equal(res.action.status, "preparing");
    assert.equal(res.targets.total, 10_050);
    assert.equal(await runPreparedWrite({ kv, now: c.now }, res.id), "busy");
    c.advance(PREPARE_LEASE_MS + 1);
    assert.equal(await runPreparedWrite({ kv, now: c.now }, res.id), "done");
    assert.equal((await getActionCounters(kv, res.id)).total, 10_050);
    assert.equal(await countKeys(kv, keys.targetsByAction(res.id)), 10_050);

    await seedInstances(kv, MAX_TARGETS + 1 - 10_050, {
      prefix: "more",
      imageTag: "v1",
    });
    // The 10,050 are held now; the rest alone would fit, but the tag names more than an action takes.
    await assert.rejects(
      scheduleAction(
        d,
        input([], c.now(), {
          instanceIds: undefined,
          selector: { imageTag: "v1" },
        }),
        { id: "admin" },
      ),
      (err: unknown) =>
        err instanceof BadRequestError &&
        err.issues?.[0]?.path === "selector.imageTag" &&
        /100001 instances are on image tag v1; at most 100000/.test(
          err.message,
        ),
    );
  });
});

Deno.test("preparing: a runner whose lease ran out loses its last commit to the one that took over, and leaves that runner's job alone: it finishes the write", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const instances = await fleetOf(kv, 150);
    const s = largeDeps(kv, c.now);
    const res = await scheduleAction(
      s,
      restart(instances.map((i) => i.id), c.now()),
      { id: "admin" },
    );
    let releaseB = () => {};
    const bMayFinish = new Promise<void>((r) => releaseB = r);
    let bAtFinish = () => {};
    const bReachedFinish = new Promise<void>((r) => bAtFinish = r);
    let b: Promise<string> | null = null;
    /** A KV whose commit turning the action `scheduled` first runs `before`. */
    const atFlip = (before: () => Promise<void>) =>
      aroundCommits(kv, async (commit, sets) => {
        const flips = sets.some(([key, value]) =>
          key[0] === "actions" &&
          (value as ScheduledAction).status === "scheduled"
        );
        if (flips) await before();
        return await commit();
      });
    // Runner A writes every part; just before its last commit its lease has
    // run out and runner B takes the job over, up to B's own last commit.
    const a = await runPreparedWrite(
      {
        kv: atFlip(async () => {
          if (b) return;
          c.advance(PREPARE_LEASE_MS + 1);
          b = runPreparedWrite(
            {
              kv: atFlip(async () => {
                bAtFinish();
                await bMayFinish;
              }),
              now: c.now,
            },
            res.id,
            "runner-b",
          );
          await bReachedFinish;
        }),
        now: c.now,
      },
      res.id,
      s.holders[0],
    );
    assert.equal(a, "busy", "A's last commit lost to B's lease");
    // B's job is still there: B finishes the write.
    assert.ok((await kv.get(keys.actionPrepare(res.id))).value);
    releaseB();
    assert.equal(await b, "done");
    const action = (await kv.get<ScheduledAction>(keys.action(res.id))).value!;
    assert.equal(action.status, "scheduled");
    assert.equal(await countKeys(kv, keys.actionPrepares()), 0);
    assert.equal(await countKeys(kv, keys.prepareChunks()), 0);
    await assertWrittenOnce(kv, res.id, instances.map((i) => i.id));
    await assertCountersMatchRows(kv, res.id, "a write taken over at its end");
  });
});
