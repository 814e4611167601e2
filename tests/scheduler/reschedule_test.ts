/**
 * Moving an action, through the scheduler's own code: pending notices follow
 * the new time, owners already warned hear of the move on the channels that
 * warned them, and a move racing the sweep, the apply or a cancel is decided
 * by versionstamps.
 */
import { parseDueKey } from "@/lib/notices/due_index.ts";
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { testConfig } from "@/lib/config.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  rescheduleAction,
  type RescheduleReport,
} from "@/lib/scheduler/reschedule.ts";
import { getActionView } from "@/lib/views/action_view.ts";
import { getBannerStatus } from "@/lib/notices/banner.ts";
import { faultyKv } from "../helpers/scheduling.ts";
import {
  applyAt,
  cancelActionAt,
  cancelTargetAt,
  getRow,
  HOUR,
  interceptCommits,
  MINUTE,
  seedAction,
  type Seeded,
} from "../helpers/notice_fixtures.ts";
import type { Notification, Stage, Target } from "@/lib/types.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function move(
  kv: Deno.Kv,
  seeded: Seeded,
  to: number,
  now: number,
  extra: { noticeLeadHours?: number } = {},
): Promise<RescheduleReport> {
  return rescheduleAction(
    { kv, now: () => now, config: testConfig({ scheduleMinAheadSeconds: 60 }) },
    seeded.action.id,
    { scheduledAt: iso(to), reason: null, ...extra },
  );
}

async function rowsOf(kv: Deno.Kv, targetId: string) {
  const out: Notification[] = [];
  for await (
    const e of kv.list<string>({ prefix: keys.notificationsByTarget(targetId) })
  ) out.push(await getRow(kv, e.value));
  return out;
}

async function dueKeys(kv: Deno.Kv) {
  const out: [number, string][] = [];
  for await (const e of kv.list({ prefix: keys.notificationsDue() })) {
    const { dueAt, id } = parseDueKey(e.key);
    out.push([dueAt, id]);
  }
  return out;
}

Deno.test("moved later before any notice went out: the notices follow the new time, nothing goes out at the old one", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * HOUR,
      leadHours: 1,
      instances: 2,
      channels: ["email", "mobile_push"],
    });
    const to = T0 + 30 * HOUR;
    const report = await move(kv, seeded, to, T0);
    assert.equal(report.moved, 2);
    assert.equal(report.inFlight, 0);
    assert.equal(report.from, iso(T0 + 10 * HOUR));
    assert.equal(report.to, iso(to));

    // Every pending notice is due an hour before the new time, and its due key moved with it.
    for (const t of seeded.targets) {
      for (const r of await rowsOf(kv, t.id)) {
        assert.equal(r.kind, "notice");
        assert.equal(r.status, "pending");
        assert.equal(r.dueAt, to - HOUR);
      }
    }
    const due = await dueKeys(kv);
    assert.equal(due.length, 4);
    assert.ok(due.every(([at]) => at === to - HOUR));
    const stageDue = [];
    for await (const e of kv.list({ prefix: keys.stagesDue() })) {
      stageDue.push(e.key[1]);
    }
    assert.deepEqual(stageDue, [to]);

    const d = recordingDispatchers();
    const early = await sweep({
      kv,
      dispatchers: d,
      now: () => T0 + 9.5 * HOUR,
    });
    assert.equal(early.sent, 0);
    // The old action time passes: nothing is applied.
    assert.equal((await applyAt(kv, T0 + 10 * HOUR + MINUTE)).applied, 0);

    const onTime = await sweep({ kv, dispatchers: d, now: () => to - HOUR });
    assert.equal(onTime.sent, 4);
    for (const item of [...d.email.items, ...d.mobile_push.items]) {
      assert.equal(item.stage.scheduledAt, iso(to));
    }
    assert.equal((await applyAt(kv, to)).applied, 2);
  }));

Deno.test("owners already warned get a rescheduled notice on each channel that warned them, and the banner shows the new time", () =>
  withKv(async (kv) => {
    const at = T0 + 30 * MINUTE;
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: at,
      leadHours: 1,
      channels: ["email", "webapp", "mobile_push"],
    });
    const d = recordingDispatchers();
    assert.equal((await sweep({ kv, dispatchers: d, now: () => T0 })).sent, 3);
    const target = seeded.targets[0];

    const to = T0 + 48 * HOUR;
    const report = await move(kv, seeded, to, T0 + MINUTE);
    assert.equal(report.moved, 1);
    const rescheduled = (await rowsOf(kv, target.id)).filter((r) =>
      r.kind === "rescheduled"
    );
    assert.deepEqual(rescheduled.map((r) => r.channel).sort(), [
      "email",
      "mobile_push",
      "webapp",
    ]);
    for (const r of rescheduled) {
      assert.equal(r.status, "pending");
      assert.equal(r.dueAt, T0 + MINUTE);
      assert.equal(r.movedFrom, iso(at));
      assert.equal(r.movedTo, iso(to));
    }

    const banner = await getBannerStatus(
      kv,
      target.instanceId,
      T0 + 2 * MINUTE,
    );
    assert.equal(banner.scheduledAction?.scheduledAt, iso(to));

    const run = await sweep({ kv, dispatchers: d, now: () => T0 + 2 * MINUTE });
    assert.equal(run.sent, 3);
    const email = d.email.items.at(-1)!;
    assert.equal(email.notification.kind, "rescheduled");
    assert.equal(email.notification.movedFrom, iso(at));
    assert.equal(email.stage.scheduledAt, iso(to));

    // Moved again: the owner hears it moved from the time they were last told.
    const again = T0 + 72 * HOUR;
    await move(kv, seeded, again, T0 + 3 * MINUTE);
    const second = (await rowsOf(kv, target.id)).filter((r) =>
      r.kind === "rescheduled"
    );
    for (const r of second) {
      assert.equal(r.status, "pending");
      assert.equal(r.movedFrom, iso(to));
      assert.equal(r.movedTo, iso(again));
      // What it told the owner before stays on the row (the action page shows it).
      assert.deepEqual(r.earlierSends, [{
        movedFrom: iso(at),
        movedTo: iso(to),
        sentAt: iso(T0 + 2 * MINUTE),
      }]);
    }
    const page = await getActionView(kv, seeded.action.id, {
      pushViaOutbox: true,
    });
    const emailLine = page.targets[0].notices.find((n) =>
      n.kind === "rescheduled" && n.channel === "email"
    )!;
    assert.deepEqual(emailLine.earlier, second[0].earlierSends);
    await sweep({ kv, dispatchers: d, now: () => T0 + 4 * MINUTE });
    assert.equal(d.mobile_push.items.at(-1)!.notification.movedFrom, iso(to));
    // The notice itself was never sent twice.
    const notices = d.email.items.filter((i) =>
      i.notification.kind === "notice"
    );
    assert.equal(notices.length, 1);
  }));

Deno.test("moved to a time whose lead window has already opened: the notice goes out at once", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 20 * HOUR,
      leadHours: 2,
      channels: ["email"],
    });
    const to = T0 + HOUR;
    await move(kv, seeded, to, T0);
    const [row] = await rowsOf(kv, seeded.targets[0].id);
    assert.equal(row.dueAt, T0);
    const d = recordingDispatchers();
    assert.equal((await sweep({ kv, dispatchers: d, now: () => T0 })).sent, 1);
    assert.equal(d.email.items[0].stage.scheduledAt, iso(to));
  }));

Deno.test("a move with a new lead time re-times the notices to it", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * HOUR,
      leadHours: 1,
      channels: ["email"],
    });
    const report = await move(kv, seeded, T0 + 10 * HOUR, T0, {
      noticeLeadHours: 6,
    });
    assert.deepEqual(report.noticeLeadHours, { from: 1, to: 6 });
    const [row] = await rowsOf(kv, seeded.targets[0].id);
    assert.equal(row.dueAt, T0 + 4 * HOUR);
  }));

Deno.test("a move racing the sweep's claim: the claim loses, no warning for the old time goes out", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      instances: 3,
      channels: ["email"],
    });
    const to = T0 + 24 * HOUR;
    // The move commits between the sweep's read of the rows and its claim.
    const racing = interceptCommits(
      kv,
      (key, value) =>
        key[0] === "notifications" &&
        (value as Notification | null)?.status === "sending",
      { times: 1, before: async () => void await move(kv, seeded, to, T0) },
    );
    const d = recordingDispatchers();
    const run = await sweep({ kv: racing.kv, dispatchers: d, now: () => T0 });
    assert.equal(racing.hits(), 1);
    assert.equal(run.sent, 0);
    assert.equal(d.email.items.length, 0);
    for (const t of seeded.targets) {
      const [row] = await rowsOf(kv, t.id);
      assert.equal(row.status, "pending");
      assert.equal(row.dueAt, to - HOUR);
    }
  }));

Deno.test("a move while a notice is in flight: that owner hears of the move once the notice is marked", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      instances: 2,
      channels: ["email"],
    });
    const to = T0 + 24 * HOUR;
    const d = recordingDispatchers();
    let report: RescheduleReport | null = null;
    d.email.beforeAnswer = async () => {
      d.email.beforeAnswer = null;
      report = await move(kv, seeded, to, T0);
    };
    await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(report!.inFlight, 2);
    assert.equal(report!.moved, 0);
    // The marker stays; the next apply tick finishes the move.
    assert.ok((await kv.get(keys.actionRescheduling(seeded.action.id))).value);
    await applyAt(kv, T0 + MINUTE);
    assert.equal(
      (await kv.get(keys.actionRescheduling(seeded.action.id))).value,
      null,
    );
    for (const t of seeded.targets) {
      const r = (await rowsOf(kv, t.id)).find((r) => r.kind === "rescheduled");
      assert.equal(r?.status, "pending");
      assert.equal(r?.movedFrom, iso(T0 + 30 * MINUTE));
    }
    const run = await sweep({ kv, dispatchers: d, now: () => T0 + 2 * MINUTE });
    assert.equal(run.sent, 2);
  }));

Deno.test("a move racing the apply: the stage claim loses, nothing is applied at the old time", () =>
  withKv(async (kv) => {
    const at = T0 + 30 * MINUTE;
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: at,
      leadHours: 0,
      instances: 2,
      channels: ["webapp"],
    });
    const to = at + 24 * HOUR;
    const racing = interceptCommits(
      kv,
      (key, value) =>
        key[0] === "stages" && (value as Stage | null)?.status === "running",
      { times: 1, before: async () => void await move(kv, seeded, to, at) },
    );
    const { applyTick } = await import("@/lib/jobs.ts");
    const { embeddedController } = await import(
      "@/lib/apply/embedded_controller.ts"
    );
    const result = await applyTick({
      kv: racing.kv,
      controller: embeddedController(kv, () => at),
      now: () => at,
    });
    assert.equal(racing.hits(), 1);
    assert.equal(result.applied, 0);
    for (const t of seeded.targets) {
      assert.equal(
        (await kv.get<Target>(keys.target(t.id))).value?.status,
        "pending",
      );
    }
    assert.equal((await applyAt(kv, to)).applied, 2);
  }));

Deno.test("targets no longer pending are left alone and reported; an action being applied cannot move", () =>
  withKv(async (kv) => {
    const at = T0 + 30 * MINUTE;
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: at,
      leadHours: 1,
      instances: 3,
      channels: ["email"],
    });
    const left = seeded.targets[0];
    await cancelTargetAt(kv, seeded, left.id, T0);
    const report = await move(kv, seeded, T0 + 5 * HOUR, T0);
    assert.equal(report.moved, 2);
    assert.equal(report.notMovedCount, 1);
    assert.deepEqual(report.notMoved, [{
      targetId: left.id,
      instanceId: left.instanceId,
      status: "skipped",
      skipReason: "cancelled",
    }]);
    assert.equal((await applyAt(kv, T0 + 5 * HOUR)).applied, 2);
    await assert.rejects(
      () => move(kv, seeded, T0 + 9 * HOUR, T0 + 5 * HOUR + MINUTE),
      /can no longer be moved/,
    );
  }));

Deno.test("a cancel after a move covers the rescheduled notices: unsent ones fail, each warned channel gets one cancellation", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      channels: ["email", "mobile_push"],
    });
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => T0 });
    await move(kv, seeded, T0 + 24 * HOUR, T0 + MINUTE);
    // The push rescheduled notice goes out; the email one is still waiting when the admin cancels.
    d.email.behaviour = () => ({ status: "retry", error: "429" });
    await sweep({ kv, dispatchers: d, now: () => T0 + 2 * MINUTE });
    await cancelActionAt(kv, seeded, T0 + 3 * MINUTE);
    const rows = await rowsOf(kv, seeded.targets[0].id);
    const byKind = (k: string, c: string) =>
      rows.filter((r) => r.kind === k && r.channel === c);
    assert.equal(byKind("rescheduled", "mobile_push")[0].status, "sent");
    assert.equal(byKind("rescheduled", "email")[0].status, "failed");
    assert.equal(byKind("cancelled", "email").length, 1);
    assert.equal(byKind("cancelled", "mobile_push").length, 1);
  }));

Deno.test("a move cut short after its first step (a crash) is finished by the next apply tick", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      instances: 2,
      channels: ["email"],
    });
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => T0 });
    const to = T0 + 24 * HOUR;
    // The process dies after the action and stage moved: no row followed yet.
    const dying = faultyKv(kv, 2, true);
    await assert.rejects(() => move(dying, seeded, to, T0 + MINUTE));
    assert.ok((await kv.get(keys.actionRescheduling(seeded.action.id))).value);
    // Nothing goes out for the old time meanwhile, and the tick finishes the move.
    await applyAt(kv, T0 + 2 * MINUTE);
    for (const t of seeded.targets) {
      const r = (await rowsOf(kv, t.id)).find((r) => r.kind === "rescheduled");
      assert.equal(r?.movedFrom, iso(T0 + 30 * MINUTE));
      assert.equal(r?.movedTo, iso(to));
    }
    assert.equal(
      (await kv.get(keys.actionRescheduling(seeded.action.id))).value,
      null,
    );
  }));
