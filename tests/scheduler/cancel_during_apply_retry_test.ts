import { allHealthy } from "../helpers/scheduling.ts";
/**
 * A cancel-all that lands while a target is being applied must not
 * leave that target pending forever when the apply then asks for a retry
 * (transient controller failure) or when a crashed apply is recovered.
 */
import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { cancelAction } from "@/lib/scheduler/cancel_targets.ts";
import { applyTick } from "@/lib/jobs.ts";
import { STUCK_RUNNING_MS } from "@/lib/apply/recover.ts";
import type {
  ControllerResult,
  InstanceController,
} from "@/lib/apply/controller.ts";
import { keys } from "@/lib/kv/keys.ts";
import type { Target } from "@/lib/types.ts";
import {
  clock,
  deps,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

async function onlyTarget(kv: Deno.Kv, actionId: string): Promise<Target> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: keys.targetsByAction(actionId) })) {
    ids.push(e.key[2] as string);
  }
  assert.equal(ids.length, 1);
  return (await kv.get<Target>(keys.target(ids[0]))).value!;
}

Deno.test("cancel-all during an apply that ends in a transient retry leaves no target pending forever", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedCatalog(kv);
    const c = clock();
    const [inst] = await seedInstances(kv, 1);
    const { id: actionId } = await scheduleAction(
      deps(kv, c.now),
      input([inst.id], c.now()),
      { id: "admin" },
    );
    c.advance(HOUR + 1);

    // The controller holds the call until the test releases it, then fails transiently.
    let entered!: () => void;
    const inCall = new Promise<void>((r) => entered = r);
    let release!: (r: ControllerResult) => void;
    const answer = new Promise<ControllerResult>((r) => release = r);
    const controller: InstanceController = {
      name: "held",
      health: allHealthy,
      restart: () => {
        entered();
        return answer;
      },
      changeVersion: () => {
        entered();
        return answer;
      },
    };
    const tick = applyTick({ kv, now: c.now, controller });
    await inCall;
    assert.equal((await onlyTarget(kv, actionId)).status, "running");
    await cancelAction({ kv, now: c.now }, actionId);
    release({ ok: false, transient: true, error: "503 from controller" });
    await tick;

    // A few more ticks: whatever the design, the target must settle.
    for (let i = 0; i < 3; i++) {
      c.advance(60_000);
      await applyTick({ kv, now: c.now, controller });
    }
    const t = await onlyTarget(kv, actionId);
    assert.notEqual(
      t.status,
      "pending",
      "target of a cancelled action stayed pending",
    );
    const lock = await kv.get(keys.instancePendingTarget(inst.id));
    assert.equal(lock.value, null, "the instance stays locked forever");
  } finally {
    kv.close();
  }
});

Deno.test("cancel-all while a crashed apply holds a target; recovery must not leave it pending forever", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedCatalog(kv);
    const c = clock();
    const [inst] = await seedInstances(kv, 1);
    const { id: actionId } = await scheduleAction(
      deps(kv, c.now),
      input([inst.id], c.now()),
      { id: "admin" },
    );
    c.advance(HOUR + 1);
    // The applier "crashes": the controller never answers.
    let entered!: () => void;
    const inCall = new Promise<void>((r) => entered = r);
    const hang: InstanceController = {
      name: "hang",
      health: allHealthy,
      restart: () => {
        entered();
        return new Promise(() => {});
      },
      changeVersion: () => {
        entered();
        return new Promise(() => {});
      },
    };
    void applyTick({ kv, now: c.now, controller: hang });
    await inCall;
    await cancelAction({ kv, now: c.now }, actionId);

    const ok: InstanceController = {
      name: "ok",
      health: allHealthy,
      restart: () => Promise.resolve({ ok: true }),
      changeVersion: () => Promise.resolve({ ok: true }),
    };
    c.advance(STUCK_RUNNING_MS + 1);
    await applyTick({ kv, now: c.now, controller: ok });
    c.advance(60_000);
    await applyTick({ kv, now: c.now, controller: ok });
    const t = await onlyTarget(kv, actionId);
    assert.notEqual(t.status, "pending");
    assert.notEqual(t.status, "running");
    const lock = await kv.get(keys.instancePendingTarget(inst.id));
    assert.equal(lock.value, null, "the instance stays locked forever");
  } finally {
    kv.close();
  }
});
