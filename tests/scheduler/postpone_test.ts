/**
 * An owner postpones their instance's change, through the route: within the
 * admin's limits, to a stage of its own; the sweep, the apply and the
 * counters follow; every refusal says why.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN } from "../helpers/app.ts";
import { applyTick } from "@/lib/jobs.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { keys } from "@/lib/kv/keys.ts";
import {
  allTargetIdsOfAction,
  getStageCounts,
  getStageEntries,
  getTargetEntries,
} from "@/lib/kv/actions.ts";
import type { Instance, ScheduledAction } from "@/lib/types.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2030-05-06T08:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

async function world(postpone: { until: number; times: number } | null) {
  let now = T0;
  const app = await createTestApp({ context: { now: () => now } });
  await seedCatalog(app.kv);
  const owner = await app.signIn({ name: "Olu" });
  const other = await app.signIn({ name: "Ann" });
  const mine = await seedInstances(app.kv, 1, { ownerId: owner.user.id });
  const theirs = await seedInstances(app.kv, 3, { ownerId: other.user.id });
  const made = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
    actionType: "version_change",
    imageTag: "v2",
    instanceIds: [...mine, ...theirs].map((i) => i.id),
    scheduledAt: iso(T0 + 2 * DAY),
    noticeLeadHours: 24,
    noticeChannels: ["email"],
    ...(postpone
      ? {
        ownerMayPostpone: { until: iso(postpone.until), times: postpone.times },
      }
      : {}),
  });
  const postponeAs = async (
    who: { cookie: string; csrfToken: string },
    instance: Instance,
    at: number,
  ) => {
    const res = await app.request(`/api/instances/${instance.id}/postpone`, {
      method: "POST",
      headers: {
        cookie: who.cookie,
        origin: ORIGIN,
        "x-csrf-token": who.csrfToken,
        "content-type": "application/json",
      },
      body: JSON.stringify({ scheduledAt: iso(at) }),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    app,
    owner,
    other,
    mine: mine[0],
    theirs,
    actionId: made.id as string,
    at: (ms: number) => {
      now = ms;
    },
    postponeAs,
  };
}

async function targetOf(kv: Deno.Kv, actionId: string, instanceId: string) {
  const ts = await getTargetEntries(
    kv,
    await allTargetIdsOfAction(kv, actionId),
  );
  return ts.find((e) => e.value.instanceId === instanceId)!.value;
}

Deno.test("postpone: the owner moves their instance later; they hear it where they were warned; the apply follows", async () => {
  const w = await world({ until: T0 + 6 * DAY, times: 2 });
  try {
    const { app, actionId } = w;
    // Warned first: the notice goes out a day ahead.
    w.at(T0 + DAY);
    const d = recordingDispatchers();
    await sweep({ kv: app.kv, dispatchers: d, now: () => T0 + DAY });
    assert.equal(d.email.items.length, 4);

    const to = T0 + 4 * DAY;
    const res = await w.postponeAs(w.owner, w.mine, to);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scheduledAt, iso(to));
    assert.equal(res.body.postponesLeft, 1);
    const t = await targetOf(app.kv, actionId, w.mine.id);
    assert.equal(t.stageIndex, 1);
    assert.equal(t.postpones, 1);
    const stages = (await getStageEntries(app.kv, actionId)).map((e) =>
      e.value
    );
    assert.equal(stages[1].scheduledAt, iso(to));
    assert.equal(stages[1].origin, "postponed");
    const counts = await getStageCounts(app.kv, actionId);
    assert.equal(counts.get(0)?.total, 3);
    assert.equal(counts.get(1)?.total, 1);
    // The owner's confirmation: a "moved" notice on the channel that warned them.
    const d2 = recordingDispatchers();
    await sweep({ kv: app.kv, dispatchers: d2, now: () => T0 + DAY + 1000 });
    assert.deepEqual(
      d2.email.items.map((i) => [
        i.notification.kind,
        i.notification.instanceId,
        i.notification.movedFrom,
        i.notification.movedTo,
        i.stage.scheduledAt,
      ]),
      [["rescheduled", w.mine.id, iso(T0 + 2 * DAY), iso(to), iso(to)]],
    );
    // Audited with the owner as the actor.
    const audit = [];
    for await (
      const e of app.kv.list<{ via: string; actor: { id: string } }>({
        prefix: keys.auditsByChange("target.postpone"),
      })
    ) {
      audit.push(
        (await app.kv.get<{ via: string; actor: { id: string } }>(
          keys.auditEntry(e.key[2] as string),
        )).value!,
      );
    }
    assert.deepEqual(audit.map((a) => [a.via, a.actor.id]), [[
      "owner",
      w.owner.user.id,
    ]]);

    // At the old time the others change, not the postponed one.
    w.at(T0 + 2 * DAY);
    const first = await applyTick(app.ctx);
    assert.equal(first.applied, 3);
    const inst = (id: string) =>
      app.kv.get<Instance>(keys.instance(id)).then((e) => e.value!);
    assert.equal((await inst(w.mine.id)).imageTag, "v1");
    assert.equal(
      (await app.kv.get<ScheduledAction>(keys.action(actionId))).value!.status,
      "running",
    );
    w.at(to);
    const second = await applyTick(app.ctx);
    assert.equal(second.applied, 1);
    assert.equal((await inst(w.mine.id)).imageTag, "v2");
    assert.equal(
      (await app.kv.get<ScheduledAction>(keys.action(actionId))).value!.status,
      "completed",
    );
  } finally {
    await w.app.close();
  }
});

Deno.test("postpone: a notice not sent yet follows the new time; nothing is claimed for the old one", async () => {
  const w = await world({ until: T0 + 6 * DAY, times: 1 });
  try {
    const to = T0 + 5 * DAY;
    assert.equal((await w.postponeAs(w.owner, w.mine, to)).status, 200);
    const d = recordingDispatchers();
    // The old notice time: the others are warned, the owner is not.
    await sweep({ kv: w.app.kv, dispatchers: d, now: () => T0 + DAY });
    assert.ok(
      d.email.items.every((i) => i.notification.instanceId !== w.mine.id),
    );
    assert.equal(d.email.items.length, 3);
    const d2 = recordingDispatchers();
    await sweep({ kv: w.app.kv, dispatchers: d2, now: () => to - DAY });
    assert.deepEqual(
      d2.email.items.map((i) => [i.notification.kind, i.stage.scheduledAt]),
      [["notice", iso(to)]],
    );
  } finally {
    await w.app.close();
  }
});

Deno.test("postpone: each refusal says why (urgent, someone else's, out of range, too late, too often, started)", async () => {
  const urgent = await world(null);
  try {
    const r = await urgent.postponeAs(urgent.owner, urgent.mine, T0 + 3 * DAY);
    assert.equal(r.status, 409);
    assert.match(r.body.error, /urgent: it cannot be postponed/);
  } finally {
    await urgent.app.close();
  }
  const w = await world({ until: T0 + 4 * DAY, times: 1 });
  try {
    const theirs = await w.postponeAs(w.owner, w.theirs[0], T0 + 3 * DAY);
    assert.equal(theirs.status, 404);
    for (const at of [T0 + 30 * 60_000, T0 + 5 * DAY]) {
      const r = await w.postponeAs(w.owner, w.mine, at);
      assert.equal(r.status, 400);
      assert.deepEqual(r.body.issues.map((i: { path: string }) => i.path), [
        "scheduledAt",
      ]);
    }
    const earlier = await w.postponeAs(w.owner, w.mine, T0 + DAY);
    assert.equal(earlier.status, 400);
    assert.match(earlier.body.error, /a postpone moves it later/);
    assert.equal(
      (await w.postponeAs(w.owner, w.mine, T0 + 3 * DAY)).status,
      200,
    );
    const twice = await w.postponeAs(w.owner, w.mine, T0 + 3 * DAY + HOUR);
    assert.equal(twice.status, 409);
    assert.match(twice.body.error, /already postponed 1 time, the most/);
    // Within the last hour of the others' change.
    w.at(T0 + 2 * DAY - 30 * 60_000);
    const late = await w.postponeAs(w.other, w.theirs[0], T0 + 3 * DAY);
    assert.equal(late.status, 409);
    assert.match(late.body.error, /less than an hour away/);
    // Started: the apply won.
    w.at(T0 + 2 * DAY);
    await applyTick(w.app.ctx);
    w.at(T0 + 2 * DAY + 60_000);
    const started = await w.postponeAs(w.other, w.theirs[1], T0 + 3 * DAY);
    assert.equal(started.status, 409);
    assert.match(started.body.error, /no change is planned|has started/);
    const bad = await w.app.request(`/api/instances/${w.mine.id}/postpone`, {
      method: "POST",
      headers: {
        cookie: w.owner.cookie,
        origin: ORIGIN,
        "x-csrf-token": w.owner.csrfToken,
        "content-type": "application/json",
      },
      body: JSON.stringify({ scheduledAt: "tomorrow" }),
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /scheduledAt/);
  } finally {
    await w.app.close();
  }
});

Deno.test("postpone racing the apply: the stage that started first wins, never both, never neither", async () => {
  const w = await world({ until: T0 + 6 * DAY, times: 2 });
  try {
    // The apply reads the due stage; the postpone commits before it claims.
    w.at(T0 + 2 * DAY - 2 * HOUR);
    assert.equal(
      (await w.postponeAs(w.owner, w.mine, T0 + 3 * DAY)).status,
      200,
    );
    w.at(T0 + 2 * DAY);
    const run = await applyTick(w.app.ctx);
    assert.equal(run.applied, 3);
    const t = await targetOf(w.app.kv, w.actionId, w.mine.id);
    assert.equal(t.status, "pending");
    w.at(T0 + 3 * DAY);
    assert.equal((await applyTick(w.app.ctx)).applied, 1);
    const after = await targetOf(w.app.kv, w.actionId, w.mine.id);
    assert.equal(after.status, "applied");
    assert.equal(after.attempts, 1);
  } finally {
    await w.app.close();
  }
});

Deno.test("postpone while the owner's warning is being sent: it goes (it says the old time), and once marked the owner hears the new time", async () => {
  const w = await world({ until: T0 + 6 * DAY, times: 2 });
  try {
    const to = T0 + 4 * DAY;
    w.at(T0 + DAY);
    const d = recordingDispatchers();
    let answer: { status: number; body: { scheduledAt?: string } } | null =
      null;
    d.email.beforeAnswer = async (items) => {
      if (items.some((i) => i.notification.instanceId === w.mine.id)) {
        answer = await w.postponeAs(w.owner, w.mine, to);
      }
    };
    await sweep({ kv: w.app.kv, dispatchers: d, now: () => T0 + DAY });
    assert.equal(answer!.status, 200);
    assert.equal(answer!.body.scheduledAt, iso(to));
    // The warning in flight was sent and marked; the apply tick's housekeeping
    // then queues the owner's "moved" notice, which the next sweep sends.
    assert.ok(
      (await w.app.kv.get(keys.targetPostponing(
        (await targetOf(w.app.kv, w.actionId, w.mine.id)).id,
      ))).value,
    );
    await applyTick(w.app.ctx);
    const d2 = recordingDispatchers();
    await sweep({ kv: w.app.kv, dispatchers: d2, now: () => T0 + DAY + 1000 });
    assert.deepEqual(
      d2.email.items.map((i) => [
        i.notification.kind,
        i.notification.movedFrom,
        i.notification.movedTo,
      ]),
      [["rescheduled", iso(T0 + 2 * DAY), iso(to)]],
    );
    const t = await targetOf(w.app.kv, w.actionId, w.mine.id);
    assert.equal((await w.app.kv.get(keys.targetPostponing(t.id))).value, null);
  } finally {
    await w.app.close();
  }
});
