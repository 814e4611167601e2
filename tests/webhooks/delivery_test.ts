/**
 * Webhook delivery through the real scheduler paths: every event kind is
 * written by the change it reports, fanned out, signed and delivered once;
 * a receiver that is down gets the backlog in order per action; 4xx, 410,
 * Retry-After and the day-long retry window.
 */
import assert from "node:assert/strict";
import { HOUR, type Json, T0, typesOf, withWorld } from "./_setup.ts";
import { ORIGIN } from "../helpers/app.ts";
import { keys } from "@/lib/kv/keys.ts";
import { startStage } from "@/lib/apply/stage_status.ts";
import { asRunning, putTarget } from "@/lib/apply/target_status.ts";
import { MAX_APPLY_ATTEMPTS } from "@/lib/apply/decide.ts";
import { STUCK_RUNNING_MS } from "@/lib/apply/recover.ts";
import type { Target } from "@/lib/types.ts";

Deno.test("every event kind, from the real schedule, move, cancel and apply paths, is delivered once and signed", async () => {
  await withWorld(async (w) => {
    const hook = "/hooks/all";
    const endpointId = await w.register(hook);

    const a = await w.schedule(2, T0 + 2 * HOUR);
    const moved = await w.call(
      "POST",
      `/api/admin/scheduled-actions/${a}/reschedule`,
      { scheduledAt: new Date(T0 + 3 * HOUR).toISOString() },
    );
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const b = await w.schedule(1, T0 + 4 * HOUR);
    const c = await w.schedule(1, T0 + 5 * HOUR);
    assert.equal(
      (await w.call("POST", `/api/admin/scheduled-actions/${c}/cancel`))
        .status,
      200,
    );

    // A: one of its two instances refused by the controller → completed.
    w.controller.script({ status: 400, body: { error: "disk full" } });
    w.clock.t = T0 + 3 * HOUR;
    await w.apply();
    // B: its only instance refused → the action failed.
    w.controller.script({ status: 400, body: { error: "disk full" } });
    w.clock.t = T0 + 4 * HOUR;
    await w.apply();

    const report = await w.deliver();
    assert.equal(report.delivered, 11);
    assert.deepEqual(typesOf(w, hook, a), [
      "action.scheduled",
      "action.rescheduled",
      "action.started",
      "target.failed",
      "action.completed",
    ]);
    assert.deepEqual(typesOf(w, hook, b), [
      "action.scheduled",
      "action.started",
      "target.failed",
      "action.failed",
    ]);
    assert.deepEqual(typesOf(w, hook, c), [
      "action.scheduled",
      "action.cancelled",
    ]);
    assert.deepEqual(w.receiver.rejected(hook), []);
    assert.ok(
      [...w.receiver.arrivals(hook).values()].every((n) => n === 1),
      "each webhook-id arrived once",
    );

    // Another tick sends nothing again.
    const again = await w.deliver();
    assert.equal(again.delivered, 0);
    assert.equal(w.receiver.processed(hook).length, 11);

    const byType = (actionId: string, type: string) =>
      w.receiver.processed(hook).find((p) =>
        p.actionId === actionId && p.type === type
      )!.body as Json;
    const done = byType(a, "action.completed");
    assert.deepEqual(done.data.counts, {
      total: 2,
      applied: 1,
      skipped: 0,
      failed: 1,
    });
    assert.equal(done.data.action.url, `${ORIGIN}/admin/actions/${a}`);
    assert.equal(done.data.action.actionType, "scheduled_restart");
    assert.equal(done.data.action.status, "completed");
    assert.ok(Date.parse(done.timestamp) >= T0 + 3 * HOUR);
    const move = byType(a, "action.rescheduled");
    assert.equal(move.data.from, new Date(T0 + 2 * HOUR).toISOString());
    assert.equal(move.data.to, new Date(T0 + 3 * HOUR).toISOString());
    const targetFailed = byType(b, "target.failed");
    assert.equal(targetFailed.data.target.instanceId, "bot-3");
    assert.match(targetFailed.data.target.error, /disk full/);
    assert.equal(byType(b, "action.failed").data.counts.failed, 1);
    assert.equal(byType(c, "action.cancelled").data.action.status, "cancelled");

    // The delivery log: each delivered on its first attempt, with the answer.
    const log = await w.call("GET", `/api/admin/webhooks/${endpointId}`);
    assert.equal(log.status, 200);
    assert.equal(log.body.deliveries.length, 11);
    for (const d of log.body.deliveries) {
      assert.equal(d.status, "delivered");
      assert.equal(d.attempts, 1);
      assert.equal(d.lastStatus, 200);
      assert.equal(d.lastAnswer, "ok");
    }
    // Nothing left waiting: no event, no due, lease or queue key.
    for (
      const prefix of [
        keys.webhookEvents(),
        keys.webhookDeliveriesDue(),
        keys.webhookDeliveryLeases(),
        ["webhook_queue"],
      ]
    ) {
      const left = await Array.fromAsync(w.app.kv.list({ prefix }));
      assert.deepEqual(left, [], `left under ${prefix[0]}`);
    }
  });
});

Deno.test("only subscribed events are delivered; an event with no endpoint leaves nothing behind", async () => {
  await withWorld(async (w) => {
    const a0 = await w.schedule(1, T0 + 2 * HOUR);
    await w.deliver();
    const hook = "/hooks/cancels";
    await w.register(hook, { events: ["action.cancelled"] });
    const a = await w.schedule(1, T0 + 2 * HOUR);
    await w.call("POST", `/api/admin/scheduled-actions/${a}/cancel`);
    await w.call("POST", `/api/admin/scheduled-actions/${a0}/cancel`);
    await w.deliver();
    // Different actions go side by side: no order between them.
    assert.deepEqual(
      w.receiver.processed(hook).map((p) => `${p.actionId} ${p.type}`).sort(),
      [`${a} action.cancelled`, `${a0} action.cancelled`].sort(),
    );
    assert.deepEqual(
      await Array.fromAsync(w.app.kv.list({ prefix: keys.webhookEvents() })),
      [],
    );
  });
});

Deno.test("a receiver down for an hour, then back, gets the backlog once and in order per action", async () => {
  await withWorld(async (w) => {
    const hook = "/hooks/down";
    const endpointId = await w.register(hook);
    w.receiver.answerAlways(hook, {
      status: 503,
      headers: { "retry-after": "120" },
    });
    const x = await w.schedule(1, T0 + 5 * HOUR);
    const y = await w.schedule(1, T0 + 6 * HOUR);
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    await w.deliver({ fetch: counting });
    // Moves and cancels while it is down: they queue behind the first event.
    w.clock.t += 60_000;
    await w.call("POST", `/api/admin/scheduled-actions/${y}/reschedule`, {
      scheduledAt: new Date(T0 + 7 * HOUR).toISOString(),
    });
    await w.call("POST", `/api/admin/scheduled-actions/${x}/cancel`);
    await w.call("POST", `/api/admin/scheduled-actions/${y}/reschedule`, {
      scheduledAt: new Date(T0 + 8 * HOUR).toISOString(),
    });
    for (let minute = 0; minute < 60; minute++) {
      w.clock.t += 60_000;
      await w.deliver({ fetch: counting });
    }
    assert.deepEqual(w.receiver.processed(hook), []);
    // Only the head of each action's queue was tried, with backoff: far
    // fewer requests than one per minute per event.
    assert.ok(requests <= 2 * 12, `${requests} requests while down`);
    const waiting = await w.call("GET", `/api/admin/webhooks/${endpointId}`);
    const head = waiting.body.deliveries.find((d: Json) =>
      d.actionId === x && d.type === "action.scheduled"
    );
    assert.equal(head.status, "pending");
    assert.equal(head.lastStatus, 503);
    assert.ok(head.attempts > 1);
    assert.ok(
      waiting.body.deliveries.filter((d: Json) => d.attempts === 0).length >= 3,
      "the later events were never sent ahead of the first",
    );

    w.receiver.answerAlways(hook, { status: 200 });
    w.clock.t += 2 * HOUR;
    await w.deliver();
    assert.deepEqual(typesOf(w, hook, x), [
      "action.scheduled",
      "action.cancelled",
    ]);
    assert.deepEqual(typesOf(w, hook, y), [
      "action.scheduled",
      "action.rescheduled",
      "action.rescheduled",
    ]);
    const moves = w.receiver.processed(hook).filter((p) =>
      p.actionId === y && p.type === "action.rescheduled"
    ).map((p) => (p.body as Json).data.to);
    assert.deepEqual(moves, [
      new Date(T0 + 7 * HOUR).toISOString(),
      new Date(T0 + 8 * HOUR).toISOString(),
    ]);
    assert.ok([...w.receiver.arrivals(hook).values()].every((n) => n === 1));
  });
});

Deno.test("retries stop after a day: the delivery fails and the action's next event goes", async () => {
  await withWorld(async (w) => {
    const hook = "/hooks/dead";
    const endpointId = await w.register(hook);
    w.receiver.answerAlways(hook, { status: 500 });
    const a = await w.schedule(1, T0 + 48 * HOUR);
    await w.call("POST", `/api/admin/scheduled-actions/${a}/cancel`);
    for (let hour = 0; hour <= 25; hour++) {
      await w.deliver();
      w.clock.t += HOUR;
    }
    const log = await w.call("GET", `/api/admin/webhooks/${endpointId}`);
    const [cancelled, scheduled] = log.body.deliveries;
    assert.equal(scheduled.type, "action.scheduled");
    assert.equal(scheduled.status, "failed");
    assert.match(scheduled.lastAnswer, /gave up after \d+ attempts over a day/);
    assert.ok(scheduled.attempts >= 8 && scheduled.attempts <= 20);
    // Next in line after the first gave up (and failed the same way).
    assert.equal(cancelled.type, "action.cancelled");
    assert.ok(cancelled.attempts >= 1);
  });
});

Deno.test("Retry-After is honoured; 4xx other than 408/429 fails at once; 408 is retried", async () => {
  await withWorld(async (w) => {
    const slow = "/hooks/slow";
    const slowId = await w.register(slow);
    w.receiver.script(slow, { status: 429, headers: { "retry-after": "900" } });
    const bad = "/hooks/bad";
    const badId = await w.register(bad);
    w.receiver.script(bad, { status: 400 });
    const timeout = "/hooks/timeout";
    const timeoutId = await w.register(timeout);
    w.receiver.script(timeout, { status: 408 });
    await w.schedule(1, T0 + 2 * HOUR);
    await w.deliver();

    const [s] = (await w.call("GET", `/api/admin/webhooks/${slowId}`)).body
      .deliveries;
    assert.equal(s.status, "pending");
    assert.equal(s.lastStatus, 429);
    assert.equal(s.nextAttemptAt, new Date(w.clock.t + 900_000).toISOString());
    const [b] = (await w.call("GET", `/api/admin/webhooks/${badId}`)).body
      .deliveries;
    assert.equal(b.status, "failed");
    assert.equal(b.attempts, 1);
    assert.equal(b.lastStatus, 400);
    const [t] = (await w.call("GET", `/api/admin/webhooks/${timeoutId}`)).body
      .deliveries;
    assert.equal(t.status, "pending");
    assert.equal(t.lastStatus, 408);

    w.clock.t += 899_000;
    await w.deliver();
    assert.equal(
      w.receiver.processed(slow).length,
      0,
      "not before Retry-After",
    );
    w.clock.t += 1_000;
    await w.deliver();
    assert.equal(w.receiver.processed(slow).length, 1);
    assert.equal(w.receiver.processed(timeout).length, 1);
    assert.equal(w.receiver.processed(bad).length, 0);
  });
});

Deno.test("a receiver that answers 410 Gone disables its endpoint: nothing more is sent to it", async () => {
  await withWorld(async (w) => {
    const hook = "/hooks/gone";
    const id = await w.register(hook);
    w.receiver.script(hook, { status: 410 });
    const a = await w.schedule(1, T0 + 2 * HOUR);
    await w.deliver();
    const list = await w.call("GET", "/api/admin/webhooks");
    const e = list.body.endpoints.find((x: Json) => x.id === id);
    assert.ok(e.disabledAt);
    assert.match(e.disabledReason, /410 Gone/);

    await w.call("POST", `/api/admin/scheduled-actions/${a}/cancel`);
    await w.deliver();
    assert.deepEqual(w.receiver.processed(hook), []);
    const [latest] = (await w.call("GET", `/api/admin/webhooks/${id}`)).body
      .deliveries;
    // The cancel happened after it was disabled: not fanned out to it at all.
    assert.equal(latest.type, "action.scheduled");
    assert.equal(latest.status, "failed");
    assert.equal(latest.lastStatus, 410);
  });
});

Deno.test("an applier that died on the last attempt: recovery fails the target and reports target.failed, then action.failed", async () => {
  await withWorld(async (w) => {
    const hook = "/hooks/recovered";
    await w.register(hook, { events: ["target.failed", "action.failed"] });
    const a = await w.schedule(1, T0 + 2 * HOUR);
    w.clock.t = T0 + 2 * HOUR;
    // What a crash leaves: the stage started, the target claimed for its
    // last attempt, its result never recorded.
    const started = await startStage(w.app.kv, a, 0, w.clock.t);
    assert.ok(started);
    const [id] = await Array.fromAsync(
      w.app.kv.list({ prefix: keys.targetsByAction(a) }),
      (e) => e.key[2] as string,
    );
    const t = (await w.app.kv.get<Target>(keys.target(id))).value!;
    const claimed = asRunning(
      { ...t, attempts: MAX_APPLY_ATTEMPTS - 1 },
      w.clock.t,
    );
    assert.ok(
      (await putTarget(w.app.kv.atomic(), t, claimed).commit()).ok,
    );
    w.clock.t += STUCK_RUNNING_MS;
    await w.apply();
    await w.deliver();
    assert.deepEqual(typesOf(w, hook, a), ["target.failed", "action.failed"]);
    const failed = w.receiver.processed(hook)[0].body as Json;
    assert.match(failed.data.target.error, /did not finish after 3 attempts/);
    assert.equal(w.controller.requests.length, 0);
  });
});
