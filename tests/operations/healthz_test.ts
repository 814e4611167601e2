/**
 * `GET /healthz`: 200 with the last sweep and apply times and the sweep lag,
 * 503 once the lag or the time since the last sweep passes its limit; no
 * sign-in, no secrets, no user data.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { MINUTE, seedAction } from "../helpers/notice_fixtures.ts";
import { runApplyJob, runSweepJob } from "@/lib/jobs.ts";
import { getLastApplyRun, type Health } from "@/lib/operations/health.ts";
import { getLastSweepRun } from "@/lib/notices/sweep.ts";

function clock() {
  let t = Date.now();
  return { now: () => t, set: (ms: number) => t = ms };
}

async function health(app: TestApp): Promise<{ status: number; body: Health }> {
  const res = await app.request("/healthz");
  assert.equal(res.headers.get("cache-control"), "no-store");
  return { status: res.status, body: await res.json() };
}

Deno.test("healthz: a fresh app is healthy, with nothing run yet", async () => {
  const app = await createTestApp();
  try {
    const { status, body } = await health(app);
    assert.equal(status, 200);
    assert.equal(body.ok, true);
    assert.deepEqual(body.problems, []);
    assert.equal(body.lastSweepAt, null);
    assert.equal(body.lastApplyAt, null);
    assert.equal(body.sweepLagSeconds, 0);
    assert.deepEqual(body.limits, {
      maxSweepLagSeconds: 300,
      maxSweepAgeSeconds: 180,
    });
  } finally {
    await app.close();
  }
});

Deno.test("healthz: notices waiting past the limit answer 503 until a sweep sends them", async () => {
  const t = clock();
  const app = await createTestApp({
    config: { healthMaxSweepLagSeconds: 120 },
    context: { now: t.now },
  });
  try {
    // Due ten minutes ago: a one-hour notice for an action in 50 minutes.
    const seeded = await seedAction(app.kv, {
      now: t.now() - 20 * MINUTE,
      instances: 2,
      scheduledAt: t.now() + 50 * MINUTE,
      leadHours: 1,
      channels: ["email", "webapp"],
    });
    let h = await health(app);
    assert.equal(h.status, 503);
    assert.equal(h.body.sweepLagSeconds, 600);
    assert.match(h.body.problems.join(), /oldest due notice has waited 600 s/);

    await runSweepJob(app.ctx);
    h = await health(app);
    assert.equal(h.status, 200);
    assert.equal(h.body.sweepLagSeconds, 0);
    assert.equal(
      h.body.lastSweepAt,
      (await getLastSweepRun(app.kv))!.finishedAt,
    );

    // Nothing about the users, instances or actions behind it.
    const text = JSON.stringify(h.body);
    for (const id of [seeded.action.id, ...seeded.userIds]) {
      assert.ok(!text.includes(id), `${id} is not in the answer`);
    }
    assert.ok(!text.includes("@"), "no address");
    assert.deepEqual(Object.keys(h.body).sort(), [
      "checkedAt",
      "lastApplyAt",
      "lastSweepAt",
      "limits",
      "ok",
      "problems",
      "secondsSinceSweep",
      "sweepLagSeconds",
    ]);
  } finally {
    await app.close();
  }
});

Deno.test("healthz: no sweep for longer than the limit answers 503; the apply's time is reported", async () => {
  const t = clock();
  const app = await createTestApp({ context: { now: t.now } });
  try {
    await runSweepJob(app.ctx);
    await runApplyJob(app.ctx);
    const swept = Date.parse((await getLastSweepRun(app.kv))!.finishedAt);
    t.set(swept + 180_000);
    let h = await health(app);
    assert.equal(h.status, 200, "at the limit");
    assert.equal(h.body.secondsSinceSweep, 180);
    assert.equal(
      h.body.lastApplyAt,
      (await getLastApplyRun(app.kv))!.finishedAt,
    );
    t.set(swept + 181_000);
    h = await health(app);
    assert.equal(h.status, 503);
    assert.equal(h.body.secondsSinceSweep, 181);
    assert.match(
      h.body.problems.join(),
      /no notice sweep has finished for 181 s \(limit 180 s\)/,
    );
  } finally {
    await app.close();
  }
});
