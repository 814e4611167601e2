/**
 * The seed's verification steps, end to end through the HTTP API: the
 * scheduler's own schedule and cancel routes, the sweep button's route, and
 * the owner's status endpoint.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  type RecordingDispatchers,
  recordingDispatchers,
} from "../helpers/dispatchers.ts";
import type { Notification, SweepRun, User } from "@/lib/types.ts";
import { keys } from "@/lib/kv/keys.ts";
import { readTargetRows } from "@/lib/notices/rows.ts";
import { HOUR, MINUTE } from "../helpers/notice_fixtures.ts";

interface World {
  app: TestApp;
  d: RecordingDispatchers;
  clock: { now: number };
  owner: { user: User; cookie: string };
  instanceId: string;
}

async function world(): Promise<World> {
  const clock = { now: Date.parse("2026-11-25T12:00:00Z") };
  const d = recordingDispatchers();
  const app = await createTestApp({
    config: { scheduleMinAheadSeconds: 0 },
    context: { dispatchers: d, now: () => clock.now },
  });
  const owner = await app.signIn();
  const instanceId = `i-${crypto.randomUUID()}`;
  const tag = await app.api("PUT", "/api/admin/catalog/v1", {
    openclawVersion: "1.0.0",
  });
  assert.equal(tag.status, 200, await tag.clone().text());
  const res = await app.api("PUT", `/api/admin/instances/${instanceId}`, {
    name: "my claw",
    ownerId: owner.user.id,
    imageTag: "v1",
  });
  assert.equal(res.status, 200, await res.clone().text());
  return { app, d, clock, owner, instanceId };
}

async function schedule(w: World, body: Record<string, unknown>) {
  const res = await w.app.api("POST", "/api/admin/scheduled-actions", {
    actionType: "scheduled_restart",
    instanceIds: [w.instanceId],
    ...body,
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string };
}

async function runSweep(w: World) {
  const res = await w.app.api("POST", "/api/admin/notices/sweep");
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as SweepRun;
}

async function status(w: World) {
  const res = await w.app.request(`/api/instances/${w.instanceId}/status`, {
    headers: { cookie: w.owner.cookie },
  });
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

async function rowsOf(w: World): Promise<Notification[]> {
  const lock = await w.app.kv.get<{ targetId: string }>(
    keys.instancePendingTarget(w.instanceId),
  );
  let targetId = lock.value?.targetId;
  if (!targetId) {
    for await (
      const e of w.app.kv.list({ prefix: keys.targetsByInstance(w.instanceId) })
    ) {
      targetId = e.key[2] as string;
    }
  }
  return (await readTargetRows(w.app.kv, targetId!)).map((e) => e.value);
}

Deno.test("notify on with a short lead: notices go out and the banner appears when the window opens", async () => {
  const w = await world();
  try {
    const at = w.clock.now + 90 * MINUTE;
    const { id } = await schedule(w, {
      scheduledAt: new Date(at).toISOString(),
      noticeLeadHours: 1,
    });
    assert.equal((await status(w)).scheduledAction, null);
    assert.equal((await runSweep(w)).processed, 0);

    w.clock.now = at - HOUR;
    const run = await runSweep(w);
    assert.equal(run.sent, 3);
    assert.equal(w.d.email.items.length, 1);
    assert.equal(w.d.mobile_push.items.length, 1);
    const s = await status(w);
    assert.equal(s.scheduledAction.scheduledActionId, id);
    assert.equal(s.scheduledAction.scheduledAt, new Date(at).toISOString());
  } finally {
    await w.app.close();
  }
});

Deno.test("notify off: no rows, nothing sent, no banner", async () => {
  const w = await world();
  try {
    const at = w.clock.now + 30 * MINUTE;
    await schedule(w, {
      scheduledAt: new Date(at).toISOString(),
      notify: false,
    });
    assert.deepEqual(await rowsOf(w), []);
    assert.equal((await runSweep(w)).processed, 0);
    assert.equal((await status(w)).scheduledAction, null);
  } finally {
    await w.app.close();
  }
});

Deno.test("cancel before the window: notices fail and are never delivered", async () => {
  const w = await world();
  try {
    const at = w.clock.now + 3 * HOUR;
    const { id } = await schedule(w, {
      scheduledAt: new Date(at).toISOString(),
      noticeLeadHours: 1,
    });
    const res = await w.app.api(
      "POST",
      `/api/admin/scheduled-actions/${id}/cancel`,
    );
    assert.equal(res.status, 200, await res.clone().text());
    for (const r of await rowsOf(w)) {
      assert.equal(r.status, "failed");
      assert.equal(r.error, "action cancelled before notice was dispatched");
    }
    w.clock.now = at - 30 * MINUTE;
    assert.equal((await runSweep(w)).processed, 0);
    assert.equal(w.d.email.items.length + w.d.mobile_push.items.length, 0);
    const s = await status(w);
    assert.equal(s.scheduledAction, null);
    assert.equal(s.cancelledAction, undefined);
  } finally {
    await w.app.close();
  }
});

Deno.test("notice then cancel: each channel gets its cancellation and the banner says it was called off", async () => {
  const w = await world();
  try {
    const at = w.clock.now + 30 * MINUTE;
    const { id } = await schedule(w, {
      scheduledAt: new Date(at).toISOString(),
    });
    assert.equal((await runSweep(w)).sent, 3);
    w.clock.now += MINUTE;
    const res = await w.app.api(
      "POST",
      `/api/admin/scheduled-actions/${id}/cancel`,
    );
    assert.equal(res.status, 200, await res.clone().text());
    const cancelled = (await rowsOf(w)).filter((r) => r.kind === "cancelled");
    assert.deepEqual(cancelled.map((r) => r.channel).sort(), [
      "email",
      "mobile_push",
      "webapp",
    ]);

    const run = await runSweep(w);
    assert.equal(run.sent, 3);
    assert.equal(w.d.email.items.at(-1)!.notification.kind, "cancelled");
    assert.equal(w.d.mobile_push.items.at(-1)!.notification.kind, "cancelled");
    const s = await status(w);
    assert.equal(s.scheduledAction, null);
    assert.equal(s.cancelledAction.scheduledActionId, id);
  } finally {
    await w.app.close();
  }
});

Deno.test("a manual run's counts are stored and shown by last-run", async () => {
  const w = await world();
  try {
    const before = await w.app.api("GET", "/api/admin/notices/last-run");
    assert.equal(await before.json(), null);
    await schedule(w, {
      scheduledAt: new Date(w.clock.now + 10 * MINUTE).toISOString(),
    });
    w.d.mobile_push.behaviour = () => ({
      status: "failed",
      error: "DeviceNotRegistered",
    });
    const run = await runSweep(w);
    const last = await (await w.app.api("GET", "/api/admin/notices/last-run"))
      .json();
    assert.deepEqual(
      [
        last.processed,
        last.sent,
        last.failed,
        last.recovered,
        last.voidedStale,
      ],
      [3, 2, 1, 0, 0],
    );
    assert.equal(last.startedAt, run.startedAt);
    assert.equal(typeof last.durationMs, "number");
  } finally {
    await w.app.close();
  }
});

Deno.test("status: another user's instance is a 404, signed out is a 401", async () => {
  const w = await world();
  try {
    const other = await w.app.signIn();
    const res = await w.app.request(`/api/instances/${w.instanceId}/status`, {
      headers: { cookie: other.cookie },
    });
    assert.equal(res.status, 404);
    const anon = await w.app.request(`/api/instances/${w.instanceId}/status`);
    assert.equal(anon.status, 401);
  } finally {
    await w.app.close();
  }
});

Deno.test("the sweep and last-run endpoints are admin only", async () => {
  const w = await world();
  try {
    const res = await w.app.request("/api/admin/notices/sweep", {
      method: "POST",
      headers: { authorization: "Bearer not-the-token-at-all-000000" },
    });
    assert.equal(res.status, 401);
    assert.equal(w.d.email.calls.length, 0);
  } finally {
    await w.app.close();
  }
});
