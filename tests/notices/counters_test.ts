/**
 * The notice counters kept with the rows: after every change an admin or a
 * sweep makes (schedule, sends, one target cancelled, a move, the action
 * cancelled, the retention purge) they equal a recount from the rows, the
 * stages add up to the action, and the action page, the progress API and
 * the list show them, exact past the old first-1,000 limit. The recount
 * route repairs counters that went wrong, and is audited.
 */
import assert from "node:assert/strict";
import { apiOk } from "../helpers/app.ts";
import { fleet, NEW_TAG } from "../helpers/e2e.ts";
import { withKv } from "../helpers/kv.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { claimRows, MINUTE, seedAction } from "../helpers/notice_fixtures.ts";
import { assertCountersMatchRows, countedRows } from "../helpers/counters.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import {
  countedState,
  NOTICE_COUNTER_SHARDS,
  readNoticeCounts,
  readStageNoticeCounts,
  shardOf,
} from "@/lib/notices/counters.ts";
import { putRow } from "@/lib/notices/row_status.ts";
import { purgeEndedActions } from "@/lib/scheduler/retention.ts";
import { purgeAbandonedWrite } from "@/lib/scheduler/action_write.ts";
import { ABANDONED_WRITE_MS } from "@/lib/kv/actions.ts";
import { newId } from "@/lib/ids.ts";
import type { Notification } from "@/lib/types.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

Deno.test("counters equal a recount after schedule, sends, one cancel, a move, the whole cancel and the retention purge", async () => {
  const f = await fleet();
  try {
    const ids = [
      f.ids["Maya's support bot"],
      f.ids["Maya's research assistant"],
      f.ids["Tom's sales bot"],
    ];
    const { id } = await apiOk(f.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "version_change",
      imageTag: NEW_TAG,
      instanceIds: ids,
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeLeadHours: 3,
      reminderLeadHours: [1],
      noticeChannels: ["email", "webapp", "mobile_push"],
    });
    const kv = f.app.kv;
    await assertCountersMatchRows(kv, id, "the schedule");
    // Three notices and two reminders per instance.
    assert.equal(await countedRows(kv, id), 15);

    await apiOk(f.app, "POST", "/api/admin/notices/sweep");
    await assertCountersMatchRows(kv, id, "the sweep's sends");

    const progress = await apiOk(
      f.app,
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    );
    const cancelOne = progress.targets[0].id;
    await apiOk(
      f.app,
      "POST",
      `/api/admin/scheduled-actions/${id}/targets/${cancelOne}/cancel`,
    );
    await assertCountersMatchRows(kv, id, "one target cancelled");

    await apiOk(
      f.app,
      "POST",
      `/api/admin/scheduled-actions/${id}/reschedule`,
      {
        scheduledAt: new Date(Date.now() + 6 * HOUR).toISOString(),
      },
    );
    await assertCountersMatchRows(kv, id, "the move");
    await apiOk(f.app, "POST", "/api/admin/notices/sweep");
    await assertCountersMatchRows(kv, id, "the move's notices sent");

    await apiOk(f.app, "POST", `/api/admin/scheduled-actions/${id}/cancel`);
    await assertCountersMatchRows(kv, id, "the whole cancel");
    await apiOk(f.app, "POST", "/api/admin/notices/sweep");
    await assertCountersMatchRows(kv, id, "the cancellations sent");

    // The detail's per-stage figures and the list's are the same counters.
    const detail = await apiOk(
      f.app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    assert.deepEqual(
      detail.stageNotices.map((s: { stageIndex: number }) => s.stageIndex),
      [0],
    );
    assert.deepEqual(detail.stageNotices[0].notices, detail.notices);
    const list = await apiOk(f.app, "GET", "/api/admin/scheduled-actions");
    const listed = list.items.find((i: { action: { id: string } }) =>
      i.action.id === id
    );
    assert.deepEqual(listed.notices, detail.notices);
    const cancellations = detail.notices.filter((t: { kind: string }) =>
      t.kind === "cancelled"
    );
    assert.ok(cancellations.length > 0, "cancellations were counted");

    const purged = await purgeEndedActions(kv, {
      now: Date.now() + 500 * DAY,
      retentionDays: 400,
    });
    assert.equal(purged.actions, 1);
    await assertCountersMatchRows(kv, id, "the retention purge");
    for (
      const prefix of [keys.noticeCounts(id), keys.stageNoticeCounts(id)]
    ) {
      for await (const e of kv.list({ prefix })) {
        assert.fail(`left behind: ${JSON.stringify(e.key)}`);
      }
    }
  } finally {
    await f.app.close();
  }
});

Deno.test("a row is counted once through retries and a recovery after its lease", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 5,
      channels: ["email", "mobile_push"],
    });
    const id = seeded.action.id;
    // First a retry for every row, then a claim whose sweep dies, then a
    // sweep after its lease that recovers and sends.
    const d = recordingDispatchers();
    d.email.behaviour = () => ({ status: "retry", error: "503 from upstream" });
    d.mobile_push.behaviour = () => ({
      status: "retry",
      error: "503 from upstream",
    });
    await sweep({ kv, dispatchers: d, now: () => start }, { leaseMs: 60_000 });
    await assertCountersMatchRows(kv, id, "a retry");
    assert.equal(await countedRows(kv, id), 10);

    // A sweep that claimed the email rows and died: they stay held until
    // their lease ends.
    const later = start + 10 * MINUTE;
    const emails = seeded.rows.filter((r) => r.channel === "email");
    const held = await claimRows(kv, "email", emails, {
      now: later,
      leaseMs: 60_000,
    });
    assert.ok(held, "the rows were claimed");
    await assertCountersMatchRows(kv, id, "a claim that never finished");
    // Held by a claim, still to be sent.
    assert.equal(
      (await readNoticeCounts(kv, id)).find((t) => t.channel === "email")
        ?.pending,
      5,
    );

    const recovered = later + 5 * MINUTE;
    d.email.behaviour = () => ({ status: "sent" });
    d.mobile_push.behaviour = () => ({ status: "sent" });
    await sweep({ kv, dispatchers: d, now: () => recovered }, {
      leaseMs: 60_000,
    });
    await assertCountersMatchRows(kv, id, "the recovery");
    const counts = await readNoticeCounts(kv, id);
    assert.deepEqual(
      counts.map((t) => [t.kind, t.channel, t.pending, t.sent]),
      [["notice", "email", 0, 5], ["notice", "mobile_push", 0, 5]],
    );
    assert.equal(await countedRows(kv, id), 10);
  }));

Deno.test("the action page and the progress API count every notice of 1,200 instances, not the first 1,000", async () => {
  const f = await fleet();
  try {
    const owner = f.tom.user.id;
    const tag = `2026.10.${newId().slice(-4)}`;
    for (let i = 0; i < 1_200; i++) {
      await putInstance(f.app.kv, newId(), {
        name: `fleet bot ${i}`,
        ownerId: owner,
        imageTag: tag,
      });
    }
    const { id } = await apiOk(f.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      selector: { imageTag: tag },
      scheduledAt: new Date(Date.now() + 30 * HOUR).toISOString(),
      noticeLeadHours: 24,
      noticeChannels: ["email", "webapp"],
    });
    const progress = await apiOk(
      f.app,
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    );
    assert.equal(progress.counters.total, 1_200);
    assert.deepEqual(
      progress.notices.channels.map((c: Record<string, unknown>) => [
        c.kind,
        c.channel,
        c.pending,
      ]),
      [["notice", "email", 1_200], ["notice", "webapp", 1_200]],
    );
    assert.ok(!("counted" in progress.notices), "no partial count is left");
    const page = await f.app.request(`/admin/actions/${id}`, {
      headers: { cookie: f.admin.cookie },
    });
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.doesNotMatch(html, /cover the first/);
    const list = await f.app.request(`/admin/actions`, {
      headers: { cookie: f.admin.cookie },
    });
    assert.match(
      await list.text(),
      /0 sent · 2400 pending · 0 failed/,
    );
  } finally {
    await f.app.close();
  }
});

Deno.test("recount: corrects counters that went wrong, answers what it changed, and is audited", async () => {
  const f = await fleet();
  try {
    const { id } = await apiOk(f.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [f.ids["Maya's support bot"], f.ids["Tom's sales bot"]],
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeLeadHours: 3,
      noticeChannels: ["email", "mobile_push"],
    });
    await apiOk(f.app, "POST", "/api/admin/notices/sweep");
    const path = `/api/admin/scheduled-actions/${id}/recount`;
    const clean = await apiOk(f.app, "POST", path);
    assert.deepEqual(clean, { actionId: id, corrected: 0, changes: [] });

    // Counters written around the rows: a stray count, a lost one, a wrong total.
    const kv = f.app.kv;
    await kv.set(
      keys.noticeCount(id, "notice", "email", "failed", 0),
      new Deno.KvU64(7n),
    );
    for await (
      const e of kv.list({ prefix: keys.noticeCounts(id) })
    ) {
      if (e.key.includes("sent")) {
        await kv.delete(e.key);
        break;
      }
    }
    await kv.set(keys.actionCounter(id, "total"), new Deno.KvU64(99n));
    const before = await apiOk(
      f.app,
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    );
    assert.equal(before.counters.total, 99);

    const fixed = await apiOk(f.app, "POST", path);
    assert.equal(fixed.corrected, 3);
    assert.ok(
      fixed.changes.some((c: { key: unknown[]; was: string; now: string }) =>
        c.key.includes("total") && c.was === "99" && c.now === "2"
      ),
    );
    await assertCountersMatchRows(kv, id, "the recount");
    const after = await apiOk(
      f.app,
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    );
    assert.equal(after.counters.total, 2);
    assert.deepEqual(
      after.notices.channels.map((c: Record<string, unknown>) => [
        c.channel,
        (c.sent as number) + (c.notDelivered as number),
        c.failed,
      ]),
      [["email", 2, 0], ["mobile_push", 2, 0]],
    );

    const audit = await apiOk(f.app, "GET", "/api/admin/audit");
    const entry = audit.items.find((e: { change: string }) =>
      e.change === "action.recount"
    );
    assert.ok(entry, "the recount is in the audit");
    assert.equal(entry.subject.id, id);
    assert.equal(entry.details.corrected, 3);

    // Someone else's try: not an admin.
    const maya = await f.app.request(path, {
      method: "POST",
      headers: {
        cookie: f.maya.cookie,
        origin: "http://localhost:8000",
      },
    });
    assert.equal(maya.status, 403);
    assert.match((await maya.json()).error, /admin/i);
    const missing = await f.app.api(
      "POST",
      `/api/admin/scheduled-actions/${newId()}/recount`,
    );
    assert.equal(missing.status, 404);
    assert.match((await missing.json()).error, /not found/);
  } finally {
    await f.app.close();
  }
});

Deno.test("counted state: a push sent to no device is not delivered; shards are fixed by the row id", () => {
  const row = {
    id: newId(),
    actionId: "a",
    stageIndex: 0,
    kind: "notice",
    channel: "mobile_push",
    status: "sent",
  } as Notification;
  assert.equal(
    countedState({ ...row, detail: "no registered devices: 0 deliveries" }),
    "not_delivered",
  );
  assert.equal(
    countedState({
      ...row,
      detail: "0 deliveries: every device token was stale and is removed",
    }),
    "not_delivered",
  );
  assert.equal(countedState({ ...row, detail: "2 of 2 devices" }), "sent");
  assert.equal(
    countedState({ ...row, channel: "email", detail: "0 deliveries" }),
    "sent",
  );
  const shards = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const id = newId();
    assert.equal(shardOf(id), shardOf(id));
    shards.add(shardOf(id));
  }
  assert.equal(shards.size, NOTICE_COUNTER_SHARDS, "every shard takes rows");
});

Deno.test("a damaged row failed by the sweep moves from pending to failed in the counts", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 2,
      channels: ["email"],
    });
    const id = seeded.action.id;
    const bad = seeded.rows[0];
    // Written around the engine: the due key stays, the row loses a field.
    await kv.set(keys.notification(bad.id), { ...bad, attempts: "many" });
    await sweep({ kv, dispatchers: recordingDispatchers(), now: () => start });
    await assertCountersMatchRows(kv, id, "a damaged row failed");
    assert.deepEqual(
      (await readNoticeCounts(kv, id)).map((
        t,
      ) => [t.pending, t.sent, t.failed]),
      [[0, 1, 1]],
    );
  }));

Deno.test("a schedule write that never became visible leaves no counters once purged", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      instances: 3,
      visible: false,
      channels: ["email", "webapp"],
    });
    const id = seeded.action.id;
    assert.equal(await countedRows(kv, id), 6);
    assert.ok(
      await purgeAbandonedWrite(kv, id, start + ABANDONED_WRITE_MS + MINUTE),
    );
    for (
      const prefix of [keys.noticeCounts(id), keys.stageNoticeCounts(id)]
    ) {
      for await (const e of kv.list({ prefix })) {
        assert.fail(`left behind: ${JSON.stringify(e.key)}`);
      }
    }
  }));

Deno.test("a row moved to another stage (as an owner's postpone moves it) leaves one stage's counts for the other's; the stages add up to the action", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 4,
      channels: ["email", "webapp"],
    });
    const id = seeded.action.id;
    const moved = seeded.targets.slice(0, 3).map((t) => t.id);
    const op = kv.atomic();
    for (const r of seeded.rows.filter((r) => moved.includes(r.targetId))) {
      const e = await kv.get<Notification>(keys.notification(r.id));
      putRow(op.check(e), e.value!, { ...e.value!, stageIndex: 1 });
    }
    assert.ok((await op.commit()).ok);
    await assertCountersMatchRows(kv, id, "a move to another stage");
    const byStage = await readStageNoticeCounts(kv, id);
    assert.deepEqual(
      [...byStage].sort(([a], [b]) => a - b).map(([index, tallies]) => [
        index,
        tallies.map((t) => [t.channel, t.pending]),
      ]),
      [
        [0, [["email", 1], ["webapp", 1]]],
        [1, [["email", 3], ["webapp", 3]]],
      ],
    );
    assert.equal(await countedRows(kv, id), 8);
  }));

Deno.test("progress: the next notice's time comes from the counts and the stage, and nothing pending leaves the page at rest", async () => {
  const f = await fleet();
  try {
    const at = new Date(Math.ceil((Date.now() + 30 * HOUR) / 60_000) * 60_000);
    const { id } = await apiOk(f.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [f.ids["Maya's support bot"], f.ids["Tom's sales bot"]],
      scheduledAt: at.toISOString(),
      noticeLeadHours: 24,
      reminderLeadHours: [2],
      noticeChannels: ["email", "webapp"],
    });
    const progress = () =>
      apiOk(f.app, "GET", `/api/admin/scheduled-actions/${id}/progress`);
    const before = await progress();
    assert.equal(
      before.notices.nextDueAt,
      new Date(at.getTime() - 24 * HOUR).toISOString(),
    );
    assert.equal(before.live, true);
    await apiOk(f.app, "POST", `/api/admin/scheduled-actions/${id}/cancel`);
    const after = await progress();
    // Nothing was sent, so no cancellation is queued: nothing is pending.
    assert.equal(after.notices.nextDueAt, null);
    assert.equal(after.live, false);
  } finally {
    await f.app.close();
  }
});
