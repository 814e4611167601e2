/** The workspace banner (`getBannerStatus`), against a real in-memory KV. */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { getBannerStatus } from "@/lib/notices/banner.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  applyAt,
  cancelActionAt,
  cancelTargetAt,
  HOUR,
  MINUTE,
  seedAction,
} from "../helpers/notice_fixtures.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

Deno.test("banner: appears the moment the lead window opens, not a millisecond before", () =>
  withKv(async (kv) => {
    const scheduledAt = T0 + 3 * HOUR;
    const s = await seedAction(kv, {
      now: T0,
      scheduledAt,
      leadHours: 2,
      actionType: "version_change",
    });
    const instanceId = s.targets[0].instanceId;
    const opens = scheduledAt - 2 * HOUR;
    assert.equal(
      (await getBannerStatus(kv, instanceId, opens - 1)).scheduledAction,
      null,
    );
    assert.deepEqual(
      (await getBannerStatus(kv, instanceId, opens)).scheduledAction,
      {
        scheduledActionId: s.action.id,
        actionType: "version_change",
        scheduledAt: new Date(scheduledAt).toISOString(),
        targetImageTag: s.action.imageTag,
        targetOpenclawVersion: "9.9.9",
      },
    );
    // Still there once the webapp notice was marked sent.
    await sweep({ kv, dispatchers: recordingDispatchers(), now: () => opens });
    assert.equal(
      (await getBannerStatus(kv, instanceId, opens + MINUTE)).scheduledAction
        ?.scheduledActionId,
      s.action.id,
    );
  }));

Deno.test("banner: none with notify off or without the webapp channel", () =>
  withKv(async (kv) => {
    const off = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + HOUR,
      notify: false,
    });
    const noWeb = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + HOUR,
      channels: ["email", "mobile_push"],
    });
    for (const s of [off, noWeb]) {
      const status = await getBannerStatus(
        kv,
        s.targets[0].instanceId,
        T0 + 30 * MINUTE,
      );
      assert.equal(status.scheduledAction, null);
    }
  }));

Deno.test("banner: gone once the target is applied", () =>
  withKv(async (kv) => {
    const s = await seedAction(kv, { now: T0, scheduledAt: T0 + HOUR });
    const id = s.targets[0].instanceId;
    assert.notEqual((await getBannerStatus(kv, id, T0)).scheduledAction, null);
    assert.equal((await applyAt(kv, T0 + HOUR)).applied, 1);
    assert.equal(
      (await getBannerStatus(kv, id, T0 + HOUR)).scheduledAction,
      null,
    );
  }));

Deno.test("banner: a shown notice then cancelled says so until the original time", () =>
  withKv(async (kv) => {
    const scheduledAt = T0 + HOUR;
    const s = await seedAction(kv, {
      now: T0,
      scheduledAt,
      channels: ["webapp"],
    });
    const id = s.targets[0].instanceId;
    await sweep({ kv, dispatchers: recordingDispatchers(), now: () => T0 });
    await cancelActionAt(kv, s, T0 + MINUTE);
    const after = await getBannerStatus(kv, id, T0 + 2 * MINUTE);
    assert.equal(after.scheduledAction, null);
    assert.equal(after.cancelledAction?.scheduledActionId, s.action.id);
    assert.equal(
      after.cancelledAction?.scheduledAt,
      new Date(scheduledAt).toISOString(),
    );
    assert.equal(
      after.cancelledAction?.cancelledAt,
      new Date(T0 + MINUTE).toISOString(),
    );
    assert.equal(
      (await getBannerStatus(kv, id, scheduledAt)).cancelledAction,
      undefined,
    );
  }));

Deno.test("banner: cancelled before the window opened leaves nothing to call off", () =>
  withKv(async (kv) => {
    const s = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 3 * HOUR,
      leadHours: 1,
    });
    await cancelTargetAt(kv, s, s.targets[0].id, T0);
    const status = await getBannerStatus(
      kv,
      s.targets[0].instanceId,
      T0 + 2 * HOUR,
    );
    assert.deepEqual(status, { scheduledAction: null });
  }));

Deno.test("banner: at most three KV round trips, keyed lookups only (no listing)", () =>
  withKv(async (kv) => {
    const s = await seedAction(kv, { now: T0, scheduledAt: T0 + HOUR });
    let reads = 0;
    const counting = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get" || prop === "getMany" || prop === "list") reads++;
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const status = await getBannerStatus(counting, s.targets[0].instanceId, T0);
    assert.equal(status.scheduledAction?.scheduledActionId, s.action.id);
    assert.ok(reads <= 3, `${reads} reads`);
  }));
