import { allHealthy } from "../helpers/scheduling.ts";
/**
 * Every index key matches its record after every kind of transition: a
 * target's instance lock, running key, action and instance indexes and the
 * action's counters; a stage's due key; a notification's due key. `putTarget` and `putRow` move
 * them; this walks a fleet through schedule, cancel, sweep, apply (applied,
 * skipped, retried), a crashed applier and its recovery, a discarded write
 * and a move, and after each step lists every key and finds none stale.
 */
import { parseDueKey } from "@/lib/notices/due_index.ts";
import assert from "node:assert/strict";
import { keys } from "@/lib/kv/keys.ts";
import { applyTick } from "@/lib/jobs.ts";
import { STUCK_RUNNING_MS } from "@/lib/apply/recover.ts";
import { cancelAction, cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { rescheduleAction } from "@/lib/scheduler/reschedule.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { updateInstance } from "@/lib/kv/instances.ts";
import type { InstanceController } from "@/lib/apply/controller.ts";
import type { Notification, Stage, Target } from "@/lib/types.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  deps,
  faultyKv,
  HOUR,
  input,
  scheduleForOwners,
  seedInstances,
} from "../helpers/scheduling.ts";

async function all<T>(kv: Deno.Kv, prefix: Deno.KvKey) {
  const out: Deno.KvEntry<T>[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e);
  return out;
}

const live = (t: Target) => t.status === "pending" || t.status === "running";

/** Every index key that disagrees with its record, in words (none: empty). */
async function staleIndexKeys(kv: Deno.Kv): Promise<string[]> {
  const problems: string[] = [];
  const targets = new Map(
    (await all<Target>(kv, ["targets"])).map((e) => [e.value.id, e.value]),
  );
  const locks = new Map(
    (await all<{ targetId: string }>(kv, ["instance_pending_target"]))
      .map((e) => [e.key[1] as string, e.value.targetId]),
  );
  const running = new Set(
    (await all(kv, keys.targetsRunning())).map((e) =>
      `${String(e.key[1])}/${String(e.key[2])}`
    ),
  );
  const byAction = new Set(
    (await all(kv, ["targets_by_action"])).map((e) =>
      `${String(e.key[1])}/${String(e.key[2])}`
    ),
  );
  const byInstance = new Set(
    (await all(kv, ["targets_by_instance"])).map((e) =>
      `${String(e.key[1])}/${String(e.key[2])}`
    ),
  );
  const ended = new Map<string, number>();
  for (const t of targets.values()) {
    if (!byAction.delete(`${t.actionId}/${t.id}`)) {
      problems.push(`target ${t.id} missing from targets_by_action`);
    }
    if (!byInstance.delete(`${t.instanceId}/${t.id}`)) {
      problems.push(`target ${t.id} missing from targets_by_instance`);
    }
    if (live(t) && locks.get(t.instanceId) !== t.id) {
      problems.push(`${t.status} target ${t.id} does not hold its instance`);
    }
    if (!live(t) && locks.get(t.instanceId) === t.id) {
      problems.push(`${t.status} target ${t.id} still holds its instance`);
    }
    if (t.status === "running") {
      const key = `${Date.parse(t.claimedAt!)}/${t.id}`;
      if (!running.delete(key)) {
        problems.push(`running target ${t.id} has no running key`);
      }
    }
    if (!live(t)) ended.set(t.actionId, (ended.get(t.actionId) ?? 0) + 1);
  }
  for (const [instanceId, targetId] of locks) {
    if (!targets.has(targetId)) {
      problems.push(`lock of ${instanceId} names no target`);
    }
  }
  for (const k of running) problems.push(`running key ${k} names no claim`);
  for (const k of byAction) problems.push(`targets_by_action ${k} is stale`);
  for (const k of byInstance) {
    problems.push(`targets_by_instance ${k} is stale`);
  }
  for (const a of await all<unknown>(kv, ["actions"])) {
    const id = a.key[1] as string;
    const counters = await all<Deno.KvU64>(kv, ["action_counters", id]);
    const n = (name: string) =>
      Number(counters.find((c) => c.key[2] === name)?.value.value ?? 0n);
    const counted = n("applied") + n("skipped") + n("failed");
    if (counted !== (ended.get(id) ?? 0)) {
      problems.push(
        `action ${id} counts ${counted} ended targets, has ${
          ended.get(id) ?? 0
        }`,
      );
    }
  }
  const stageDue = new Set(
    (await all(kv, keys.stagesDue())).map((e) =>
      `${String(e.key[1])}/${String(e.key[2])}/${String(e.key[3])}`
    ),
  );
  for (const st of await all<Stage>(kv, ["stages"])) {
    const s = st.value;
    const has = stageDue.delete(
      `${Date.parse(s.scheduledAt)}/${s.actionId}/${s.index}`,
    );
    const live = s.status === "pending" || s.status === "running";
    if (live && !has) {
      problems.push(`${s.status} stage of ${s.actionId} has no due key`);
    }
    if (!live && has) {
      problems.push(`${s.status} stage of ${s.actionId} kept its due key`);
    }
  }
  for (const k of stageDue) {
    problems.push(`stage due key ${k} names no live stage`);
  }
  const rows = new Map(
    (await all<Notification>(kv, ["notifications"])).map((
      e,
    ) => [e.value.id, e.value]),
  );
  const due = new Set(
    (await all(kv, ["notifications_due"])).map((e) => {
      const { dueAt, id } = parseDueKey(e.key);
      return `${dueAt}/${id}`;
    }),
  );
  for (const r of rows.values()) {
    const has = due.delete(`${r.dueAt}/${r.id}`);
    if (r.status === "pending" && !has) {
      problems.push(`pending row ${r.id} has no due key`);
    }
    if (r.status !== "pending" && has) {
      problems.push(`${r.status} row ${r.id} kept its due key`);
    }
  }
  for (const k of due) problems.push(`due key ${k} names no pending row`);
  return problems;
}

const ok: InstanceController = {
  name: "ok",
  health: allHealthy,
  restart: () => Promise.resolve({ ok: true }),
  changeVersion: () => Promise.resolve({ ok: true }),
};

Deno.test("index keys: none stale after schedule, cancel, sweep, apply, retry, crash and recovery, discard and move", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const step = async (name: string) =>
      assert.deepEqual(await staleIndexKeys(kv), [], `after ${name}`);
    const { c, instances, actionId } = await scheduleForOwners(kv, 8, {
      actionType: "scheduled_restart",
      noticeLeadHours: 1,
      noticeChannels: ["email", "webapp"],
      doneChannels: ["email"],
    });
    await step("schedule");
    const targetOf = async (instanceId: string) =>
      (await all<Target>(kv, ["targets"])).find((e) =>
        e.value.instanceId === instanceId && e.value.actionId === actionId
      )!.value;

    await cancelTarget(
      { kv, now: c.now },
      actionId,
      (await targetOf(instances[0].id)).id,
    );
    await step("cancel one target");

    c.advance(30 * 60_000);
    await sweep({ kv, dispatchers: recordingDispatchers(), now: c.now });
    await step("sweep");

    // Due: one destroyed (skipped), one transient failure (retried), one
    // whose applier crashes (stuck running), the rest applied.
    await updateInstance(
      kv,
      instances[1].id,
      (i) => ({ ...i, status: "destroyed" }),
    );
    c.advance(30 * 60_000 + 1);
    let entered!: () => void;
    const inCall = new Promise<void>((r) => entered = r);
    const flaky: InstanceController = {
      name: "flaky",
      health: allHealthy,
      restart: (i) =>
        i.id === instances[2].id
          ? Promise.resolve({ ok: false, transient: true, error: "busy" })
          : i.id === instances[3].id
          ? (entered(), new Promise(() => {}))
          : Promise.resolve({ ok: true }),
      changeVersion: () => Promise.resolve({ ok: true }),
    };
    const tick = applyTick({ kv, now: c.now, controller: flaky });
    await inCall;
    // The others settle while the crashed one hangs.
    for (let i = 0; i < 50; i++) {
      const t = await targetOf(instances[4].id);
      if (t.status === "applied") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await step("apply: applied, skipped, retried, one running");
    assert.equal((await targetOf(instances[2].id)).status, "pending");
    assert.equal((await targetOf(instances[3].id)).status, "running");
    void tick;

    c.advance(STUCK_RUNNING_MS + 1);
    await applyTick({ kv, now: c.now, controller: ok });
    await step("recovery and the next apply");
    assert.equal((await targetOf(instances[3].id)).status, "applied");

    // A second action: written halfway, then discarded by its own clean-up.
    const more = await seedInstances(kv, 5, { prefix: "more" });
    await assert.rejects(
      scheduleAction(
        deps(faultyKv(kv, 3), c.now),
        input(more.map((i) => i.id), c.now()),
        { id: "admin" },
      ),
      /injected/,
    );
    await step("a discarded write");

    // A third: moved, then cancelled as a whole.
    const third = await scheduleAction(
      deps(kv, c.now),
      input(more.map((i) => i.id), c.now(), { noticeChannels: ["webapp"] }),
      { id: "admin" },
    );
    await step("schedule again on the same instances");
    await rescheduleAction(deps(kv, c.now), third.id, {
      scheduledAt: new Date(c.now() + 3 * HOUR).toISOString(),
      reason: null,
    });
    await step("a move");
    await cancelAction({ kv, now: c.now }, third.id);
    await step("cancel the whole action");
  } finally {
    kv.close();
  }
});
