/**
 * What people see of a rollout, through the app's real routes and an
 * in-memory KV: the preview's plan (the same waves the write makes), each
 * wave's counters, health and gate on `GET /api/admin/scheduled-actions/:id`,
 * the paused status, and the owner's banner on hold at their own wave's time.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import {
  body,
  clock,
  HOUR,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putStage } from "@/lib/apply/stage_status.ts";
import { applyTick } from "@/lib/jobs.ts";
import { calendarSigner, calendarUrl } from "@/lib/calendar.ts";
import { recentChanges } from "@/lib/kv/audit.ts";
import { describeChange, sentenceText } from "@/lib/views/audit_words.ts";
import { addToStageCounter } from "@/lib/kv/actions.ts";
import { putUser } from "@/lib/kv/users.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  DEFAULT_CONCURRENCY,
  expectedApplyMinutes,
} from "@/lib/scheduler/waves.ts";
import {
  ActionDetailSchema,
  InstanceStatusSchema,
  SchedulePreviewSchema,
} from "@/lib/views/action_answers.ts";
import type { ScheduledAction, Stage } from "@/lib/types.ts";

const MINUTE = 60_000;
const WAVES = [
  { percent: 10, soakMinutes: 60 },
  { count: 5, soakMinutes: 30 },
  { percent: 100 },
];
const GATE = { maxFailedPercent: 5, maxUnhealthyPercent: 5 };

async function withApp(
  fn: (app: TestApp, c: ReturnType<typeof clock>) => Promise<void>,
) {
  const c = clock();
  const app = await createTestApp({ context: { now: c.now } });
  try {
    await seedCatalog(app.kv);
    await fn(app, c);
  } finally {
    await app.close();
  }
}

Deno.test("preview: each wave's size, planned time and a sample, as the write plans them", () =>
  withApp(async (app, c) => {
    const instances = await seedInstances(app.kv, 20);
    const ids = instances.map((i) => i.id);
    const request = body(ids, c.now(), { waves: WAVES, gate: GATE });
    const preview = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions/preview",
      request,
    );
    SchedulePreviewSchema.parse(preview);
    assert.equal(preview.ready, true, JSON.stringify(preview.problems));
    assert.deepEqual(preview.stages.map((s: { size: number }) => s.size), [
      2,
      5,
      13,
    ]);
    const at = c.now() + HOUR;
    const m1 = expectedApplyMinutes(2, DEFAULT_CONCURRENCY);
    const m2 = expectedApplyMinutes(5, DEFAULT_CONCURRENCY);
    const wave2 = at + (m1 + 60) * MINUTE;
    const wave3 = wave2 + (m2 + 30) * MINUTE;
    assert.deepEqual(
      preview.stages.map((s: { scheduledAt: string }) => s.scheduledAt),
      [at, wave2, wave3].map((ms) => new Date(ms).toISOString()),
    );
    assert.deepEqual(
      preview.stages.map((s: { soakMinutes: number }) => s.soakMinutes),
      [60, 30, 0],
    );
    const names = new Map(instances.map((i) => [i.id, i.name]));
    for (const s of preview.stages) {
      assert.equal(s.sample.length, Math.min(5, s.size));
      for (const one of s.sample) {
        assert.equal(one.name, names.get(one.instanceId));
      }
    }
    assert.deepEqual(preview.rollout, {
      expectedCallMs: 2000,
      concurrency: DEFAULT_CONCURRENCY,
      gate: GATE,
    });

    // The write makes the same waves at the same times.
    const { id } = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      request,
    );
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    assert.deepEqual(
      detail.stages.map((
        s: { size: number; scheduledAt: string },
      ) => [s.size, s.scheduledAt]),
      preview.stages.map((
        s: { size: number; scheduledAt: string },
      ) => [s.size, s.scheduledAt]),
    );
  }));

Deno.test("preview: one stage of everything without waves", () =>
  withApp(async (app, c) => {
    const ids = (await seedInstances(app.kv, 7)).map((i) => i.id);
    const preview = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions/preview",
      body(ids, c.now()),
    );
    assert.equal(preview.stages.length, 1);
    assert.equal(preview.stages[0].size, 7);
    assert.equal(preview.stages[0].scheduledAt, preview.scheduledAt);
    assert.equal(preview.rollout.gate, null);
  }));

Deno.test("preview: a hand-picked canary is wave 1 exactly; a stranger in it is a problem on waves.0.instanceIds", () =>
  withApp(async (app, c) => {
    const instances = await seedInstances(app.kv, 12);
    const ids = instances.map((i) => i.id);
    const canary = [ids[7], ids[3]];
    const preview = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions/preview",
      body(ids, c.now(), {
        waves: [{ instanceIds: canary, soakMinutes: 15 }, { percent: 100 }],
      }),
    );
    assert.deepEqual(
      preview.stages[0].sample.map((s: { instanceId: string }) => s.instanceId)
        .sort(),
      [...canary].sort(),
    );
    assert.deepEqual(preview.stages.map((s: { size: number }) => s.size), [
      2,
      10,
    ]);

    const stranger = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions/preview",
      body(ids.slice(0, 5), c.now(), {
        waves: [{ instanceIds: [ids[9]] }, { percent: 100 }],
      }),
    );
    assert.equal(stranger.ready, false);
    assert.deepEqual(
      stranger.problems.map((p: { path: string }) => p.path),
      ["waves.0.instanceIds"],
    );
    assert.match(stranger.problems[0].message, new RegExp(ids[9]));
  }));

/** Writes a wave's end the way the engine does: the stage through putStage, its counters by `sum`. */
async function endWave(
  kv: Deno.Kv,
  actionId: string,
  index: number,
  change: Partial<Stage>,
  counts: { applied: number; failed: number },
) {
  const prev = (await kv.get<Stage>(keys.stage(actionId, index))).value!;
  const op = kv.atomic();
  putStage(op, prev, { ...prev, ...change });
  addToStageCounter(op, prev, "applied", counts.applied);
  addToStageCounter(op, prev, "failed", counts.failed);
  assert.ok((await op.commit()).ok);
}

async function setActionStatus(
  kv: Deno.Kv,
  actionId: string,
  change: Partial<ScheduledAction>,
) {
  const a = (await kv.get<ScheduledAction>(keys.action(actionId))).value!;
  await kv.set(keys.action(actionId), { ...a, ...change });
}

Deno.test("GET one action: each wave with its size, counters, health, soak and gate; paused and aborted after a wave", () =>
  withApp(async (app, c) => {
    const ids = (await seedInstances(app.kv, 20)).map((i) => i.id);
    const { id } = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids, c.now(), { waves: WAVES, gate: GATE }),
    );
    const gateAt = new Date(c.now() + 3 * HOUR).toISOString();
    const soakUntil = new Date(c.now() + 2 * HOUR).toISOString();
    await endWave(app.kv, id, 0, {
      status: "completed",
      soakUntil,
      gate: {
        verdict: "failed",
        at: gateAt,
        failedPercent: 50,
        unhealthyPercent: 50,
        healthy: 0,
        unhealthy: 1,
        unknown: 0,
        checked: 1,
        nextAt: null,
      },
    }, { applied: 1, failed: 1 });
    await setActionStatus(app.kv, id, { status: "paused" });

    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    ActionDetailSchema.parse(detail);
    assert.equal(detail.action.status, "paused");
    const [first, second, last] = detail.stages;
    assert.deepEqual(
      {
        index: first.index,
        status: first.status,
        size: first.size,
        applied: first.applied,
        skipped: first.skipped,
        failed: first.failed,
        cancelled: first.cancelled,
        healthy: first.healthy,
        unhealthy: first.unhealthy,
        unknown: first.unknown,
        soakMinutes: first.soakMinutes,
        soakUntil: first.soakUntil,
        gate: first.gate,
      },
      {
        index: 0,
        status: "completed",
        size: 2,
        applied: 1,
        skipped: 0,
        failed: 1,
        cancelled: 0,
        healthy: 0,
        unhealthy: 1,
        unknown: 0,
        soakMinutes: 60,
        soakUntil,
        gate: {
          verdict: "failed",
          at: gateAt,
          failedPercent: 50,
          unhealthyPercent: 50,
          resumedAt: null,
        },
      },
    );
    assert.equal(second.status, "pending");
    assert.equal(second.size, 5);
    assert.deepEqual(second.gate, {
      verdict: null,
      at: null,
      failedPercent: 0,
      unhealthyPercent: 0,
      resumedAt: null,
    });
    // The last wave has no gate after it.
    assert.equal(last.gate, null);
    assert.equal(last.size, 13);

    // The action page says why it stopped, and shows every wave.
    const admin = await app.signIn({ admin: true });
    const page = await (await app.request(`/admin/actions/${id}`, {
      headers: { cookie: admin.cookie },
    })).text();
    assert.match(
      page,
      /Paused: wave 1 — 1 of 2 failed, 1 unhealthy, over the 5 % gate/,
    );
    assert.match(page, /data-testid="wave-3"/);
    assert.match(page, /gate failed \(50 % failed, 50 % unhealthy\)/);
    // The later waves are held: no countdown to times that will not happen.
    const planned = [...page.matchAll(
      /data-testid="wave-planned"[^>]*>(.*?)<\/p>/gs,
    )].map((m) => m[1].replace(/<[^>]+>/g, ""));
    assert.equal(planned.length, 3);
    assert.match(planned[0], /^Planned for .* \(in 1 h\) · .* UTC$/);
    for (const held of planned.slice(1)) {
      assert.match(
        held,
        /^On hold: it was planned for .*; a resume gives it a new time\.$/,
      );
      assert.doesNotMatch(held, /\(in /);
    }

    // The actions list says how many waves, and where it stopped.
    const list = await (await app.request("/admin/actions?status=paused", {
      headers: { cookie: admin.cookie },
    })).text();
    assert.match(list, /3 waves · stopped at wave 1(&#39;|')s gate/);

    // Paused actions are found by their status.
    const found = await apiOk(
      app,
      "GET",
      "/api/admin/scheduled-actions?status=paused",
    );
    assert.deepEqual(
      found.items.map((i: { action: { id: string } }) => i.action.id),
      [id],
    );

    await setActionStatus(app.kv, id, {
      status: "cancelled",
      abortedAfterWave: 1,
    });
    const aborted = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    assert.equal(aborted.action.abortedAfterWave, 1);
    const abortedPage = await (await app.request(`/admin/actions/${id}`, {
      headers: { cookie: admin.cookie },
    })).text();
    assert.match(abortedPage, /Aborted after wave 1:/);
    assert.doesNotMatch(abortedPage, /Paused:/);
    const progress = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    );
    assert.equal(progress.stages.length, 3);
  }));

Deno.test("GET one action without waves: one stage counting the whole action", () =>
  withApp(async (app, c) => {
    const ids = (await seedInstances(app.kv, 3)).map((i) => i.id);
    const { id } = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids, c.now()),
    );
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    assert.equal(detail.stages.length, 1);
    assert.equal(detail.stages[0].size, 3);
    assert.equal(detail.stages[0].gate, null);
    assert.equal(detail.stages[0].soakMinutes, 0);
  }));

Deno.test("banner: owners see their own wave's time, and on hold while the rollout is paused", () =>
  withApp(async (app, c) => {
    const owner = await app.signIn({ name: "Owner" });
    const instances = await seedInstances(app.kv, 4, {
      ownerId: owner.user.id,
    });
    await putUser(app.kv, owner.user.id, { email: owner.user.email });
    const ids = instances.map((i) => i.id);
    const { id } = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids, c.now(), {
        noticeLeadHours: 24,
        waves: [{ count: 1, soakMinutes: 120 }, { percent: 100 }],
        gate: GATE,
      }),
    );
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    const [wave1, wave2] = detail.stages;
    assert.notEqual(wave1.scheduledAt, wave2.scheduledAt);
    const inWave2 =
      detail.targets.items.find((t: { target: { stageIndex: number } }) =>
        t.target.stageIndex === 1
      ).target.instanceId;
    // The notices go out (the lead is longer than the time left).
    await sweep({
      kv: app.kv,
      dispatchers: recordingDispatchers(),
      now: c.now,
    });

    const status = async () => {
      const res = await app.request(`/api/instances/${inWave2}/status`, {
        headers: { cookie: owner.cookie },
      });
      assert.equal(res.status, 200);
      return InstanceStatusSchema.parse(await res.json());
    };
    const before = await status();
    assert.equal(before.scheduledAction?.scheduledAt, wave2.scheduledAt);
    assert.equal(before.scheduledAction?.onHold, undefined);
    const list = await fetchOwnList(app, owner.cookie);
    assert.equal(
      list.find((i: { instanceId: string }) => i.instanceId === inWave2)
        .scheduledAction.scheduledAt,
      wave2.scheduledAt,
    );
    // The calendar event starts at the wave's own time too.
    const targetId = detail.targets.items.find((
      t: { target: { instanceId: string } },
    ) => t.target.instanceId === inWave2).target.id;
    const token = (await calendarSigner(app.kv))(targetId);
    const ics = await (await app.request(
      new URL(calendarUrl(ORIGIN, targetId, token)).pathname,
    )).text();
    const start = wave2.scheduledAt.replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    assert.match(ics, new RegExp(`DTSTART:${start}`));

    await setActionStatus(app.kv, id, { status: "paused" });
    const held = await status();
    assert.equal(held.scheduledAction?.onHold, true);
    assert.equal(held.scheduledAction?.scheduledActionId, id);
    const page = await app.request(`/claw/${inWave2}`, {
      headers: { cookie: owner.cookie },
    });
    const html = await page.text();
    assert.match(html, /On hold:<\/strong> we will tell you the new time/);
    // No countdown to a time that will not happen.
    assert.doesNotMatch(html, /will upgrade to/);
    const heldList = await fetchOwnList(app, owner.cookie);
    assert.equal(
      heldList.find((i: { instanceId: string }) => i.instanceId === inWave2)
        .scheduledAction.onHold,
      true,
    );

    await setActionStatus(app.kv, id, { status: "running" });
    assert.equal((await status()).scheduledAction?.onHold, undefined);
  }));

async function fetchOwnList(app: TestApp, cookie: string) {
  const res = await app.request("/api/instances", { headers: { cookie } });
  assert.equal(res.status, 200);
  return (await res.json()).items;
}

Deno.test("action page: a rollback links to the action it rolls back, and back", () =>
  withApp(async (app, c) => {
    const ids = (await seedInstances(app.kv, 4)).map((i) => i.id);
    const first = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids.slice(0, 2), c.now()),
    );
    const back = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids.slice(2), c.now()),
    );
    await setActionStatus(app.kv, back.id, { rollbackOf: first.id });
    const admin = await app.signIn({ admin: true });
    const html = async (id: string) =>
      await (await app.request(`/admin/actions/${id}`, {
        headers: { cookie: admin.cookie },
      })).text();
    assert.match(
      await html(back.id),
      new RegExp(`Rolls back <a href="/admin/actions/${first.id}">`),
    );
    assert.match(
      await html(first.id),
      new RegExp(`Rolled back by <a href="/admin/actions/${back.id}">`),
    );
  }));

Deno.test("banner on hold, after a real pause: only for an owner already warned, never for one whose notice the pause held", async () => {
  const c = clock();
  const app = await createTestApp({
    config: { embeddedUnhealthyTags: ["v2"] },
    context: { now: c.now },
  });
  try {
    await seedCatalog(app.kv);
    const owner = await app.signIn({ name: "Owner" });
    const rollout = async (noticeLeadHours: number) => {
      const instances = await seedInstances(app.kv, 3, {
        ownerId: owner.user.id,
      });
      const { id } = await apiOk(
        app,
        "POST",
        "/api/admin/scheduled-actions",
        body(instances.map((i) => i.id), c.now(), {
          noticeLeadHours,
          noticeChannels: ["webapp"],
          waves: [{ count: 1, soakMinutes: 120 }, { percent: 100 }],
          gate: GATE,
        }),
      );
      const detail = await apiOk(
        app,
        "GET",
        `/api/admin/scheduled-actions/${id}`,
      );
      return {
        id,
        later: detail.targets.items.find((
          t: { target: { stageIndex: number } },
        ) => t.target.stageIndex === 1).target.instanceId as string,
        wave2At: Date.parse(detail.stages[1].scheduledAt),
      };
    };
    // Warned at once (24 h ahead), and warned only an hour before its wave.
    const warned = await rollout(24);
    const unwarned = await rollout(1);
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    const status = async (instanceId: string) => {
      const res = await app.request(`/api/instances/${instanceId}/status`, {
        headers: { cookie: owner.cookie },
      });
      return (await res.json()).scheduledAction;
    };
    assert.equal((await status(warned.later))?.onHold, undefined);
    assert.equal(await status(unwarned.later), null);

    c.advance(HOUR);
    assert.equal((await applyTick(app.ctx)).paused, 2);
    assert.equal((await status(warned.later))?.onHold, true);
    // Within the second wave's lead now, but its notice was held: nothing to take back.
    c.set(unwarned.wave2At - 30 * MINUTE);
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    assert.equal(await status(unwarned.later), null);
    assert.equal((await status(warned.later))?.onHold, true);

    // The admin sees the held notice as held, never due at a time that is no time.
    const admin = await app.signIn({ admin: true });
    const page = await (await app.request(`/admin/actions/${unwarned.id}`, {
      headers: { cookie: admin.cookie },
    })).text();
    assert.doesNotMatch(page, /275760/);
    assert.match(page, /held while the rollout is paused/);
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${unwarned.id}/progress`,
    );
    assert.doesNotMatch(JSON.stringify(detail), /275760/);
  } finally {
    await app.close();
  }
});

Deno.test("action page without JavaScript: Resume at a time in a zone, Abort and Roll back are forms posted to the page", async () => {
  const c = clock();
  const app = await createTestApp({
    config: { embeddedUnhealthyTags: ["v2"] },
    context: { now: c.now },
  });
  try {
    await seedCatalog(app.kv);
    const admin = await app.signIn({ admin: true });
    const rollout = async () => {
      const ids = (await seedInstances(app.kv, 10)).map((i) => i.id);
      return (await apiOk(
        app,
        "POST",
        "/api/admin/scheduled-actions",
        body(ids, c.now(), { waves: WAVES, gate: GATE }),
      )).id as string;
    };
    const [resumed, aborted, rolledBack] = [
      await rollout(),
      await rollout(),
      await rollout(),
    ];
    c.advance(HOUR);
    assert.equal((await applyTick(app.ctx)).paused, 3);

    const html = await (await app.request(`/admin/actions/${resumed}`, {
      headers: { cookie: admin.cookie },
    })).text();
    for (const intent of ["resume", "abort", "rollback"]) {
      assert.match(html, new RegExp(`name="intent" value="${intent}"`));
    }
    const post = (id: string, fields: Record<string, string>) =>
      app.request(`/admin/actions/${id}`, {
        method: "POST",
        redirect: "manual",
        headers: {
          cookie: admin.cookie,
          origin: ORIGIN,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ _csrf: admin.csrfToken, ...fields }),
      });

    // 09:00 in Stockholm two days on is 08:00 UTC (winter).
    const res = await post(resumed, {
      intent: "resume",
      scheduledAt: "2030-01-03T09:00",
      timeZone: "Europe/Stockholm",
      reason: "fixed",
    });
    assert.equal(res.status, 303);
    const after = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${resumed}`,
    );
    assert.equal(after.action.status, "running");
    assert.equal(after.stages[1].scheduledAt, "2030-01-03T08:00:00.000Z");
    // A time the clocks skip is refused, naming it.
    const skipped = await post(resumed, {
      intent: "resume",
      scheduledAt: "2030-03-31T02:30",
      timeZone: "Europe/Stockholm",
    });
    assert.equal(skipped.status, 400);

    assert.equal((await post(aborted, { intent: "abort" })).status, 303);
    const abortedNow = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${aborted}`,
    );
    assert.equal(abortedNow.action.status, "cancelled");
    assert.equal(abortedNow.action.abortedAfterWave, 1);

    const back = await post(rolledBack, { intent: "rollback" });
    assert.equal(back.status, 303);
    const location = back.headers.get("location") ?? "";
    const newId = /\/admin\/actions\/([0-9a-f-]{36})/.exec(location)?.[1];
    assert.ok(newId && newId !== rolledBack, location);
    const rollback = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${newId}`,
    );
    assert.equal(rollback.action.rollbackOf, rolledBack);
  } finally {
    await app.close();
  }
});

Deno.test("audit: a rollout's pause, resume, abort and roll back read as sentences", async () => {
  const c = clock();
  const app = await createTestApp({
    config: { embeddedUnhealthyTags: ["v2"] },
    context: { now: c.now },
  });
  try {
    await seedCatalog(app.kv);
    const rollout = async () => {
      const ids = (await seedInstances(app.kv, 10)).map((i) => i.id);
      return (await apiOk(
        app,
        "POST",
        "/api/admin/scheduled-actions",
        body(ids, c.now(), { waves: WAVES, gate: GATE }),
      )).id as string;
    };
    const [resumed, aborted, rolledBack] = [
      await rollout(),
      await rollout(),
      await rollout(),
    ];
    c.advance(HOUR);
    assert.equal((await applyTick(app.ctx)).paused, 3);
    const at = new Date(c.now() + 48 * HOUR).toISOString();
    await apiOk(app, "POST", `/api/admin/scheduled-actions/${resumed}/resume`, {
      scheduledAt: at,
    });
    await apiOk(app, "POST", `/api/admin/scheduled-actions/${aborted}/abort`);
    await apiOk(
      app,
      "POST",
      `/api/admin/scheduled-actions/${rolledBack}/rollback`,
    );
    const said = async (id: string) =>
      (await recentChanges(app.kv, { type: "action", id })).items
        .map((e) => [e.change, describeChange(e).map(sentenceText)]);
    const r = await said(resumed);
    assert.deepEqual(r.find(([c]) => c === "action.pause")?.[1], [
      "Paused: wave 1 — 0 of 1 failed, 1 unhealthy, over the 5 % gate",
    ]);
    const resume = r.find(([c]) => c === "action.resume")?.[1] as string[];
    assert.match(resume[0], new RegExp(`to ${at}$`));
    assert.equal(resume[1], "Waves 2, 3 to go");
    assert.deepEqual(
      (await said(aborted)).find(([c]) => c === "action.abort")
        ?.[1],
      [
        "Aborted after wave 1: the later waves' instances are left as they were",
      ],
    );
    assert.deepEqual(
      (await said(rolledBack)).find(([c]) => c === "action.rollback")?.[1],
      ["A version change back to v1 for 1 instance"],
    );
  } finally {
    await app.close();
  }
});

Deno.test("admin views of an instance in a later wave: its own wave's time, and paused when the rollout is", () =>
  withApp(async (app, c) => {
    const instances = await seedInstances(app.kv, 4);
    const ids = instances.map((i) => i.id);
    const { id } = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body(ids, c.now(), {
        waves: [{ count: 1, soakMinutes: 120 }, { percent: 100 }],
        gate: GATE,
      }),
    );
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    const wave2At = detail.stages[1].scheduledAt;
    const later = detail.targets.items.find((
      t: { target: { stageIndex: number } },
    ) => t.target.stageIndex === 1).target.instanceId;
    const admin = await app.signIn({ admin: true });
    const html = async (path: string) =>
      await (await app.request(path, { headers: { cookie: admin.cookie } }))
        .text();

    // The instances list names the wave's time; so does a review that meets it.
    assert.match(
      await html("/admin"),
      new RegExp(`dateTime="${wave2At}"`, "i"),
    );
    const review = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions/preview",
      body([later], c.now(), { skipPending: true }),
    );
    assert.equal(review.leftOut.pending.items[0].scheduledAt, wave2At);

    await setActionStatus(app.kv, id, { status: "paused" });
    assert.match(await html("/admin"), / · paused/);
    assert.match(
      await html(`/admin/instances/${later}`),
      /on hold: the rollout is paused before this instance&#39;s wave|on hold: the rollout is paused before this instance's wave/,
    );
  }));
