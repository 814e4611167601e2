/**
 * `timing: {mode: "owner_window", notBefore, deadline}`: each instance at its
 * owner's first window start in the range (notBefore when none), a stage per
 * distinct time that waits for no other, each owner warned for their own
 * time, the apply running each stage at its own time; bad timings are a 400
 * naming the field, with nothing written.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, type TestApp } from "../helpers/app.ts";
import { applyTick } from "@/lib/jobs.ts";
import { putOwnerSettings } from "@/lib/owners/settings.ts";
import { countKeys } from "../helpers/scheduling.ts";
import type { MaintenanceWindow, Stage } from "@/lib/types.ts";

const HOUR = 3_600_000;
// Monday 2030-01-07, 00:00 UTC.
const MONDAY = Date.parse("2030-01-07T00:00:00Z");
const NOT_BEFORE = "2030-01-07T12:00:00.000Z";
const DEADLINE = "2030-01-12T00:00:00.000Z";

async function owner(
  app: TestApp,
  name: string,
  timeZone: string | null,
  window: MaintenanceWindow | null,
) {
  const { user, cookie } = await app.signIn({
    name,
    ...(timeZone ? { timeZone } : {}),
  });
  await putOwnerSettings(app.kv, user.id, {
    timeZone,
    maintenanceWindow: window,
    channels: { email: true, mobile_push: true },
    quietHours: null,
  }, app.ctx.now());
  await apiOk(app, "PUT", "/api/admin/catalog/2030.1.0", {
    openclawVersion: "1.0.0",
  });
  const id = `${name.toLowerCase()}-bot-${crypto.randomUUID().slice(0, 6)}`;
  await apiOk(app, "PUT", `/api/admin/instances/${id}`, {
    name: `${name}'s bot`,
    ownerId: user.id,
    imageTag: "2030.1.0",
  });
  return { user, cookie, instanceId: id };
}

Deno.test("owner windows: each instance at its owner's first window start, stages by time, owners warned for their own", async () => {
  let now = MONDAY;
  const app = await createTestApp({ context: { now: () => now } });
  try {
    const maya = await owner(app, "Maya", "Asia/Kolkata", {
      days: ["tue"],
      startHour: 2,
      lengthHours: 3,
    });
    const lee = await owner(app, "Lee", "Asia/Kolkata", {
      days: ["tue", "fri"],
      startHour: 2,
      lengthHours: 1,
    });
    const tom = await owner(app, "Tom", "Europe/Berlin", {
      days: ["thu"],
      startHour: 22,
      lengthHours: 2,
    });
    // No window at all, and a window whose only day is outside the range.
    const ana = await owner(app, "Ana", null, null);
    const bo = await owner(app, "Bo", "America/New_York", {
      days: ["sun"],
      startHour: 3,
      lengthHours: 2,
    });
    const all = [maya, lee, tom, ana, bo];
    const body = {
      actionType: "scheduled_restart",
      instanceIds: all.map((o) => o.instanceId),
      timing: {
        mode: "owner_window",
        notBefore: NOT_BEFORE,
        deadline: DEADLINE,
      },
      noticeLeadHours: 6,
      noticeChannels: ["email", "webapp"],
    };
    const tuesdayIst = "2030-01-07T20:30:00.000Z"; // Tue 02:00 in Kolkata
    const thursdayBerlin = "2030-01-10T21:00:00.000Z"; // Thu 22:00 in Berlin

    // The review's plan is the one the schedule writes.
    const preview = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions/preview",
      { ...body, sampleOwnerId: maya.user.id },
    );
    assert.equal(preview.ready, true, JSON.stringify(preview.problems));
    assert.deepEqual(preview.windows, {
      notBefore: NOT_BEFORE,
      deadline: DEADLINE,
      times: [
        { at: NOT_BEFORE, instances: 2 },
        { at: tuesdayIst, instances: 2 },
        { at: thursdayBerlin, instances: 1 },
      ],
      fellBack: 2,
    });
    assert.equal(
      preview.sample.banner.status.scheduledAction.scheduledAt,
      tuesdayIst,
    );

    const created = await apiOk(
      app,
      "POST",
      "/api/admin/scheduled-actions",
      body,
    );
    assert.deepEqual(
      created.stages.map((s: Stage) => [s.index, s.scheduledAt, s.waitsFor]),
      [[0, NOT_BEFORE, null], [1, tuesdayIst, null], [2, thursdayBerlin, null]],
    );
    assert.deepEqual(created.windows, { fellBack: 2 });
    assert.equal(created.action.scheduledAt ?? NOT_BEFORE, NOT_BEFORE);
    assert.deepEqual(created.action.timing, {
      mode: "owner_window",
      notBefore: NOT_BEFORE,
      deadline: DEADLINE,
    });
    // Its pages speak of times, not waves: nothing rolls out in waves here.
    const admin = await app.signIn({ admin: true });
    const actionPage = await (await app.request(
      `/admin/actions/${created.id}`,
      { headers: { cookie: admin.cookie } },
    )).text();
    assert.doesNotMatch(actionPage, /data-testid="waves"|Wave 1/);
    assert.match(actionPage, /<dt>First at<\/dt>/);
    const list = await (await app.request("/admin/actions", {
      headers: { cookie: admin.cookie },
    })).text();
    assert.match(list, /3 times · in owners(&#39;|') windows/);
    assert.doesNotMatch(list, /3 waves/);

    const expected = new Map([
      [maya.instanceId, tuesdayIst],
      [lee.instanceId, tuesdayIst],
      [tom.instanceId, thursdayBerlin],
      [ana.instanceId, NOT_BEFORE],
      [bo.instanceId, NOT_BEFORE],
    ]);
    // The banner shows from each owner's own notice time (6 h before their
    // time), with their own time.
    for (const o of all) {
      const at = Date.parse(expected.get(o.instanceId)!);
      const banner = async () => {
        const res = await app.request(
          `/api/instances/${o.instanceId}/status`,
          { headers: { cookie: o.cookie } },
        );
        return (await res.json()).scheduledAction;
      };
      now = at - 7 * HOUR;
      assert.equal(await banner(), null, o.user.name!);
      now = at - 5 * HOUR;
      assert.equal((await banner())?.scheduledAt, expected.get(o.instanceId));
    }
    now = MONDAY;

    // Each owner's notice falls due 6 h before their own time, no sooner.
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${created.id}`,
    );
    for (const { target, notifications } of detail.targets.items) {
      const at = Date.parse(expected.get(target.instanceId)!);
      for (const n of notifications) {
        assert.equal(n.dueAt, at - 6 * HOUR, target.instanceId);
      }
    }

    // The apply runs each stage at its time, none before.
    const applied = async () => {
      const d = await apiOk(
        app,
        "GET",
        `/api/admin/scheduled-actions/${created.id}`,
      );
      return d.targets.items.filter((i: { target: { status: string } }) =>
        i.target.status === "applied"
      ).map((i: { target: { instanceId: string } }) => i.target.instanceId)
        .sort();
    };
    now = Date.parse(NOT_BEFORE) - 1000;
    await applyTick(app.ctx);
    assert.deepEqual(await applied(), []);
    now = Date.parse(NOT_BEFORE) + 1000;
    await applyTick(app.ctx);
    assert.deepEqual(await applied(), [ana.instanceId, bo.instanceId].sort());
    now = Date.parse(tuesdayIst) + 1000;
    await applyTick(app.ctx);
    assert.deepEqual(
      await applied(),
      [ana.instanceId, bo.instanceId, maya.instanceId, lee.instanceId].sort(),
    );
    now = Date.parse(thursdayBerlin) + 1000;
    await applyTick(app.ctx);
    assert.deepEqual(await applied(), all.map((o) => o.instanceId).sort());
  } finally {
    await app.close();
  }
});

Deno.test("owner windows: a bad timing is a 400 naming its field, nothing written", async (t) => {
  const now = MONDAY;
  const app = await createTestApp({ context: { now: () => now } });
  try {
    const ana = await owner(app, "Ana", null, null);
    const base = {
      actionType: "scheduled_restart",
      instanceIds: [ana.instanceId],
      noticeLeadHours: 6,
    };
    const refused = async (
      body: Record<string, unknown>,
      path: string,
      message: RegExp,
    ) => {
      const res = await app.api("POST", "/api/admin/scheduled-actions", {
        ...base,
        ...body,
      });
      const json = await res.json();
      assert.equal(res.status, 400, JSON.stringify(json));
      const issue = json.issues.find((i: { path: string }) => i.path === path);
      assert.ok(issue, `no issue at ${path}: ${JSON.stringify(json)}`);
      assert.match(issue.message, message);
      assert.equal(await countKeys(app.kv, ["actions"]), 0);
    };
    const timing = (notBefore: string, deadline: string) => ({
      timing: { mode: "owner_window", notBefore, deadline },
    });

    await t.step("a deadline not after notBefore", async () => {
      await refused(
        timing(NOT_BEFORE, NOT_BEFORE),
        "timing.deadline",
        /later than timing.notBefore/,
      );
    });
    await t.step("notBefore too soon", async () => {
      await refused(
        timing(new Date(now + 10_000).toISOString(), DEADLINE),
        "timing.notBefore",
        /at least 60 seconds from now/,
      );
    });
    await t.step("a deadline more than a year ahead", async () => {
      await refused(
        timing(NOT_BEFORE, new Date(now + 400 * 24 * HOUR).toISOString()),
        "timing.deadline",
        /at most a year from now/,
      );
    });
    await t.step("waves beside timing", async () => {
      await refused(
        { ...timing(NOT_BEFORE, DEADLINE), waves: [{ percent: 100 }] },
        "timing",
        /cannot be combined yet/,
      );
    });
    await t.step("a scheduledAt other than notBefore", async () => {
      await refused(
        {
          ...timing(NOT_BEFORE, DEADLINE),
          scheduledAt: new Date(now + 2 * HOUR).toISOString(),
        },
        "scheduledAt",
        /must equal timing.notBefore/,
      );
    });
    await t.step("neither a time nor a timing", async () => {
      await refused({}, "scheduledAt", /required/);
    });
    await t.step("a mode other than owner_window", async () => {
      await refused(
        {
          timing: {
            mode: "whenever",
            notBefore: NOT_BEFORE,
            deadline: DEADLINE,
          },
        },
        "timing.mode",
        /owner_window/,
      );
    });
  } finally {
    await app.close();
  }
});
