/**
 * `POST /api/admin/scheduled-actions/:id/reschedule` through the whole app:
 * the answer, the owner's email and banner, the audit, and the errors.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { listOutbox, type OutboxEmail } from "@/lib/channels/outbox.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2030-03-04T10:00:00Z");

async function withApp(
  fn: (app: TestApp, clock: { t: number }) => Promise<void>,
) {
  const clock = { t: T0 };
  const app = await createTestApp({ context: { now: () => clock.t } });
  try {
    await seedCatalog(app.kv);
    await fn(app, clock);
  } finally {
    await app.close();
  }
}

async function call(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await app.api(method, path, body);
  return { status: res.status, body: await res.json() };
}

async function emails(app: TestApp): Promise<OutboxEmail[]> {
  return (await listOutbox(app.kv, { limit: 500 })).items.filter((
    m,
  ): m is OutboxEmail => m.kind === "email");
}

Deno.test("API: moving an action after its notice went out", async () => {
  await withApp(async (app, clock) => {
    const owner = await app.signIn({ email: "mover@example.com" });
    await call(app, "PUT", "/api/admin/instances/move-bot", {
      name: "Move bot",
      ownerId: owner.user.id,
      imageTag: "v1",
    });
    const created = await call(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ["move-bot"],
      scheduledAt: new Date(T0 + 2 * HOUR).toISOString(),
      noticeLeadHours: 24,
      noticeChannels: ["email", "webapp"],
    });
    assert.equal(created.status, 201);
    const id = created.body.id;
    await call(app, "POST", "/api/admin/notices/sweep");
    assert.equal((await emails(app)).length, 1);

    clock.t += 60_000;
    const to = "2030-03-06T10:00:00.000Z";
    const moved = await call(
      app,
      "POST",
      `/api/admin/scheduled-actions/${id}/reschedule`,
      { scheduledAt: to, reason: "clashes with the launch" },
    );
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    // The action as GET …/:id shows it, and what the move did.
    const detail = await call(app, "GET", `/api/admin/scheduled-actions/${id}`);
    const { reschedule, ...shown } = moved.body;
    assert.deepEqual(shown, detail.body);
    assert.equal(shown.stages[0].scheduledAt, to);
    assert.equal(reschedule.moved, 1);
    assert.equal(reschedule.from, "2030-03-04T12:00:00.000Z");
    const kinds = detail.body.targets.items[0].notifications.map((
      n: { kind: string; channel: string },
    ) => `${n.kind}:${n.channel}`).sort();
    assert.deepEqual(kinds, [
      "notice:email",
      "notice:webapp",
      "rescheduled:email",
      "rescheduled:webapp",
    ]);

    // The banner shows the new time.
    const status = await app.request("/api/instances/move-bot/status", {
      headers: { cookie: owner.cookie },
    });
    assert.equal((await status.json()).scheduledAction.scheduledAt, to);

    await call(app, "POST", "/api/admin/notices/sweep");
    const moveEmail = (await emails(app)).find((e) =>
      e.subject === "KiloClaw: Restart moved"
    );
    assert.ok(moveEmail, "the rescheduled email went out");
    assert.equal(moveEmail.to, "mover@example.com");
    assert.match(moveEmail.text, /moved from .*2030.* to .*2030/);
    assert.match(moveEmail.text, /Mar 4/);
    assert.match(moveEmail.text, /Mar 6/);

    const audit = await call(
      app,
      "GET",
      `/api/admin/audit?change=action.reschedule`,
    );
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].reason, "clashes with the launch");
    assert.deepEqual(audit.body.items[0].details.scheduledAt, [
      "2030-03-04T12:00:00.000Z",
      to,
    ]);
  });
});

Deno.test("API: reschedule errors", async (t) => {
  await withApp(async (app) => {
    const owner = await app.signIn();
    await call(app, "PUT", "/api/admin/instances/err-bot", {
      name: "Err bot",
      ownerId: owner.user.id,
      imageTag: "v1",
    });
    const created = await call(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ["err-bot"],
      scheduledAt: new Date(T0 + 5 * HOUR).toISOString(),
    });
    const path = `/api/admin/scheduled-actions/${created.body.id}/reschedule`;
    const later = new Date(T0 + 9 * HOUR).toISOString();
    await t.step("unknown field", async () => {
      const r = await call(app, "POST", path, {
        scheduledAt: later,
        noticeLeadHour: 3,
      });
      assert.equal(r.status, 400);
      assert.match(JSON.stringify(r.body), /noticeLeadHour/);
    });
    await t.step("in the past", async () => {
      const r = await call(app, "POST", path, {
        scheduledAt: new Date(T0 - HOUR).toISOString(),
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.issues[0].path, "scheduledAt");
    });
    await t.step("lead hours out of range", async () => {
      const r = await call(app, "POST", path, {
        scheduledAt: later,
        noticeLeadHours: 200,
      });
      assert.equal(r.status, 400);
    });
    await t.step("unknown action", async () => {
      const r = await call(
        app,
        "POST",
        `/api/admin/scheduled-actions/nope-123/reschedule`,
        { scheduledAt: later },
      );
      assert.equal(r.status, 404);
    });
    await t.step("a cancelled action", async () => {
      await call(
        app,
        "POST",
        `/api/admin/scheduled-actions/${created.body.id}/cancel`,
      );
      const r = await call(app, "POST", path, { scheduledAt: later });
      assert.equal(r.status, 409);
      assert.match(r.body.error, /cancelled and can no longer be moved/);
    });
  });
});

Deno.test("API: a move's dry run shows the new notice and reminder times and the message sent about it, changing nothing", async () => {
  await withApp(async (app, clock) => {
    const owner = await app.signIn({ email: "dry@example.com" });
    await call(app, "PUT", "/api/admin/instances/dry-bot", {
      name: "Dry bot",
      ownerId: owner.user.id,
      imageTag: "v1",
    });
    const created = await call(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ["dry-bot"],
      scheduledAt: new Date(T0 + 2 * HOUR).toISOString(),
      noticeLeadHours: 24,
      reminderLeadHours: [1],
      noticeChannels: ["email", "webapp"],
    });
    assert.equal(created.status, 201);
    const id = created.body.id;
    await call(app, "POST", "/api/admin/notices/sweep");
    clock.t += 60_000;
    const before = await call(app, "GET", `/api/admin/scheduled-actions/${id}`);
    const to = "2030-03-06T10:00:00.000Z";
    const dry = await call(
      app,
      "POST",
      `/api/admin/scheduled-actions/${id}/reschedule/preview`,
      { scheduledAt: to, noticeLeadHours: 12 },
    );
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.from, "2030-03-04T12:00:00.000Z");
    assert.equal(dry.body.to, to);
    assert.deepEqual(dry.body.notice, {
      at: "2030-03-05T22:00:00.000Z",
      atOnce: false,
      leadHours: 12,
    });
    assert.deepEqual(dry.body.reminders, [
      { leadHours: 1, at: "2030-03-06T09:00:00.000Z" },
    ]);
    assert.equal(dry.body.sample.email.subject, "KiloClaw: Restart moved");
    assert.match(dry.body.sample.email.text, /moved from .*Mar 4.* to .*Mar 6/);
    assert.equal(dry.body.sample.push, null);
    const after = await call(app, "GET", `/api/admin/scheduled-actions/${id}`);
    assert.deepEqual(after.body, before.body);

    // Its problems, all at once, in words: a past time and a lead of 0.
    const bad = await call(
      app,
      "POST",
      `/api/admin/scheduled-actions/${id}/reschedule/preview`,
      { scheduledAt: new Date(T0 - HOUR).toISOString(), noticeLeadHours: 0 },
    );
    assert.equal(bad.status, 400);
    assert.deepEqual(
      bad.body.issues.map((i: { path: string }) => i.path).sort(),
      ["noticeLeadHours", "scheduledAt"],
    );
    const past = await call(
      app,
      "POST",
      `/api/admin/scheduled-actions/${id}/reschedule/preview`,
      { scheduledAt: new Date(T0 - HOUR).toISOString(), noticeLeadHours: 1 },
    );
    assert.equal(past.status, 400);
    assert.deepEqual(past.body.issues, [
      { path: "scheduledAt", message: "is in the past" },
      {
        path: "noticeLeadHours",
        message:
          "each reminder must come after the notice: fewer hours than the notice lead (1 h)",
      },
    ]);
  });
});
