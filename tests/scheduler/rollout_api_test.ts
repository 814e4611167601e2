/**
 * The rollout through the admin API: waves and gate in the schedule body
 * (with clear 400s), the pause the gate makes, and resume / abort / roll back
 * with their 404, 409 and 400 answers and audit entries.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, type TestApp } from "../helpers/app.ts";
import { applyTick } from "@/lib/jobs.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { putUser } from "@/lib/kv/users.ts";
import { keys } from "@/lib/kv/keys.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2030-03-04T10:00:00Z");

async function world() {
  let now = T0;
  const app = await createTestApp({
    config: { embeddedUnhealthyTags: ["v2"], scheduleMinAheadSeconds: 60 },
    context: { now: () => now },
  });
  await seedCatalog(app.kv);
  const instances = await seedInstances(app.kv, 40);
  for (const o of new Set(instances.map((i) => i.ownerId))) {
    await putUser(app.kv, o, { email: `${o}@example.test` });
  }
  return {
    app,
    ids: instances.map((i) => i.id),
    at: (ms: number) => {
      now = ms;
    },
  };
}

function body(ids: string[], extra: Record<string, unknown> = {}) {
  return {
    actionType: "version_change",
    imageTag: "v2",
    instanceIds: ids,
    scheduledAt: new Date(T0 + HOUR).toISOString(),
    noticeChannels: ["email"],
    waves: [{ percent: 25, soakMinutes: 30 }, { percent: 100 }],
    gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
    ...extra,
  };
}

async function problems(app: TestApp, extra: Record<string, unknown>) {
  const res = await app.api(
    "POST",
    "/api/admin/scheduled-actions",
    body(["i-1"], extra),
  );
  const json = await res.json();
  assert.equal(res.status, 400, JSON.stringify(json));
  return json.issues.map((i: { path: string }) => i.path) as string[];
}

Deno.test("schedule API: bad waves and gates are 400s naming the field", async () => {
  const { app } = await world();
  try {
    const eleven = Array.from({ length: 11 }, () => ({ percent: 10 }));
    assert.deepEqual(await problems(app, { waves: eleven }), ["waves"]);
    assert.deepEqual(
      await problems(app, {
        waves: [{ percent: 10, count: 3 }, { percent: 100 }],
      }),
      ["waves.0"],
    );
    assert.deepEqual(
      await problems(app, {
        waves: [{ percent: 10 }, { instanceIds: ["i-1"] }],
      }),
      ["waves.1.instanceIds"],
    );
    assert.deepEqual(
      await problems(app, {
        waves: [{ percent: 10, soakMinutes: 10_081 }, { percent: 100 }],
      }),
      ["waves.0.soakMinutes"],
    );
    assert.deepEqual(
      await problems(app, { waves: [{ percent: 100 }] }),
      ["gate"],
    );
    assert.deepEqual(
      await problems(app, {
        gate: { maxFailedPercent: 101, maxUnhealthyPercent: 5 },
      }),
      ["gate.maxFailedPercent"],
    );
  } finally {
    await app.close();
  }
});

Deno.test("rollout API: paused by the gate, then resumed; resume, abort and roll back answer 404 and 409 where they do not apply", async () => {
  const { app, ids, at } = await world();
  try {
    const made = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids),
    );
    assert.equal(made.stages.length, 2);
    const id = made.id as string;
    const path = `/api/admin/scheduled-actions/${id}`;
    // Not paused: nothing to resume.
    const early = await app.api("POST", `${path}/resume`, {});
    assert.equal(early.status, 409);
    assert.match(
      (await early.json()).error,
      /only a paused rollout can be resumed/,
    );
    const unknown = await app.api(
      "POST",
      "/api/admin/scheduled-actions/01900000-0000-7000-8000-000000000000/resume",
      {},
    );
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();

    at(T0 + HOUR);
    const tick = await applyTick(app.ctx);
    assert.equal(tick.applied, 10);
    assert.equal(tick.paused, 1);
    const paused = await apiOk(app, "GET", path);
    assert.equal(paused.action.status, "paused");
    // The on-hold notices go; the later waves' warnings wait: nothing is
    // shown as coming due while the rollout is paused.
    await sweep({
      kv: app.kv,
      dispatchers: app.ctx.dispatchers,
      now: app.ctx.now,
    });
    const progress = await apiOk(app, "GET", `${path}/progress`);
    assert.equal(progress.notices.nextDueAt, null);

    const past = await app.api("POST", `${path}/resume`, {
      scheduledAt: new Date(T0).toISOString(),
    });
    assert.equal(past.status, 400);
    assert.match(JSON.stringify(await past.json()), /scheduledAt/);
    const odd = await app.api("POST", `${path}/resume`, { when: "soon" });
    assert.equal(odd.status, 400);
    await odd.body?.cancel();

    const resumed = await apiOk(app, "POST", `${path}/resume`, {
      reason: "the build is fixed",
    });
    assert.equal(resumed.action.status, "running");
    // The failed verdict stays on record, with when it was resumed over.
    assert.equal(resumed.stages[0].gate.verdict, "failed");
    assert.equal(
      resumed.stages[0].gate.resumedAt,
      new Date(T0 + HOUR).toISOString(),
    );
    assert.equal(resumed.stages[1].gate, null);
    // Default: the earliest time that still gives owners their 24 h lead.
    assert.equal(
      resumed.resume.to,
      new Date(T0 + HOUR + 24 * HOUR).toISOString(),
    );
    const audit = [];
    for await (
      const e of app.kv.list({ prefix: keys.auditsByChange("action.resume") })
    ) audit.push(e);
    assert.equal(audit.length, 1);

    const aborted = await apiOk(app, "POST", `${path}/abort`, {
      reason: "enough",
    });
    assert.equal(aborted.action.status, "cancelled");
    assert.equal(aborted.action.abortedAfterWave, 1);
    const again = await app.api("POST", `${path}/resume`, {});
    assert.equal(again.status, 409);
    await again.body?.cancel();

    const back = await app.api("POST", `${path}/rollback`, {});
    assert.equal(back.status, 201);
    const rolled = await back.json();
    assert.equal(rolled.action.rollbackOf, id);
    assert.equal(rolled.targets.total, 10);
  } finally {
    await app.close();
  }
});

Deno.test("rollout API: a restart cannot be rolled back (409)", async () => {
  const { app, ids } = await world();
  try {
    const made = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ids.slice(0, 4),
      scheduledAt: new Date(T0 + HOUR).toISOString(),
      waves: [{ count: 1 }, { percent: 100 }],
    });
    const res = await app.api(
      "POST",
      `/api/admin/scheduled-actions/${made.id}/rollback`,
      {},
    );
    assert.equal(res.status, 409);
    assert.match((await res.json()).error, /only a version change/);
  } finally {
    await app.close();
  }
});
