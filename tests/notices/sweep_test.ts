/** The sweep's core cases (claim won and lost, races with apply and cancel, failures), each against a real in-memory KV. */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { deleteUser } from "@/lib/kv/users.ts";
import { PARENT_CHANGED } from "@/lib/notices/parents.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  applyAt,
  cancelTargetAt,
  countKeys,
  getRow,
  getRows,
  HOUR,
  interceptCommits,
  MINUTE,
  rowTo,
  seedAction,
} from "../helpers/notice_fixtures.ts";
import type { Notification, SweepRun } from "@/lib/types.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

Deno.test("nothing due: no dispatch, rows stay pending, every count reported", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 3 * HOUR,
      leadHours: 1,
    });
    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.deepEqual(
      {
        processed: run.processed,
        sent: run.sent,
        failed: run.failed,
        recovered: run.recovered,
        voidedStale: run.voidedStale,
      },
      { processed: 0, sent: 0, failed: 0, recovered: 0, voidedStale: 0 },
    );
    assert.equal(
      d.email.calls.length + d.webapp.calls.length + d.mobile_push.calls.length,
      0,
    );
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "pending");
    }
    const last = (await kv.get<SweepRun>(keys.sweepLastRun())).value;
    assert.equal(last?.startedAt, new Date(T0).toISOString());
    assert.equal(last?.processed, 0);
  }));

Deno.test("happy path: every channel's notice is dispatched once and marked sent", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      actionType: "version_change",
    });
    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(run.processed, 3);
    assert.equal(run.sent, 3);
    assert.equal(run.failed, 0);
    for (const ch of [d.email, d.webapp, d.mobile_push]) {
      assert.equal(ch.items.length, 1);
      const item = ch.items[0];
      assert.equal(item.user.id, seeded.userIds[0]);
      assert.equal(item.instance?.id, seeded.targets[0].instanceId);
      assert.equal(item.action.id, seeded.action.id);
      assert.equal(item.targetOpenclawVersion, "9.9.9");
    }
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "sent");
      assert.equal(r.sentAt, new Date(T0).toISOString());
      assert.equal(r.attempts, 1);
    }
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    assert.equal(await countKeys(kv, keys.noticeGroupLeases()), 0);
    // A second sweep finds nothing to do.
    const again = await sweep({ kv, dispatchers: d, now: () => T0 + MINUTE });
    assert.equal(again.processed, 0);
    assert.equal(d.email.items.length, 1);
  }));

Deno.test("a claim lost to another sweep: the row goes out once, by the winner", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email"],
    });
    const d = recordingDispatchers();
    let winner: Awaited<ReturnType<typeof sweep>> | null = null;
    // Sweeps read apart (due_index.ts): the winner is one that took the
    // loser's part of the due index over once the loser's hold on it ended.
    const racing = interceptCommits(kv, rowTo("sending"), {
      times: 1,
      before: async () => {
        winner = await sweep({ kv, dispatchers: d, now: () => T0 + MINUTE });
      },
    });
    const loser = await sweep({ kv: racing.kv, dispatchers: d, now: () => T0 });
    assert.equal(racing.hits(), 1);
    assert.equal(winner!.sent, 1);
    assert.equal(loser.processed, 0);
    assert.equal(loser.sent, 0);
    assert.deepEqual(d.email.dispatchedIds(), [seeded.rows[0].id]);
    assert.equal((await getRow(kv, seeded.rows[0].id)).status, "sent");
  }));

Deno.test("the apply path winning the race: no dispatch, the notice is voided", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email", "mobile_push"],
    });
    const d = recordingDispatchers();
    const racing = interceptCommits(kv, rowTo("sending"), {
      times: 1,
      // The apply, on a clock already at the action time, takes the target
      // between the sweep's read and its claim.
      before: async () => {
        assert.equal((await applyAt(kv, T0 + 10 * MINUTE)).applied, 1);
      },
    });
    // One group at a time: the apply lands before the first claim commits.
    const run = await sweep({ kv: racing.kv, dispatchers: d, now: () => T0 }, {
      concurrency: 1,
    });
    assert.equal(d.email.calls.length + d.mobile_push.calls.length, 0);
    assert.equal(run.sent, 0);
    assert.equal(run.voidedStale, 2);
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "failed");
      assert.equal(r.error, PARENT_CHANGED);
    }
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
  }));

Deno.test("a cancelled row fires while its notice sibling is blocked", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email", "mobile_push"],
    });
    const d = recordingDispatchers();
    d.mobile_push.behaviour = () => ({
      status: "retry",
      error: "503 from expo",
    });
    await sweep({ kv, dispatchers: d, now: () => T0 });
    await cancelTargetAt(kv, seeded, seeded.targets[0].id, T0 + MINUTE);
    const [email, push] = await getRows(kv, seeded.rows.map((r) => r.id));
    assert.equal(email.status, "sent");
    assert.equal(push.status, "failed");
    assert.equal(push.error, "action cancelled before notice was dispatched");

    d.mobile_push.behaviour = () => ({ status: "sent" });
    const run = await sweep({ kv, dispatchers: d, now: () => T0 + 2 * MINUTE });
    assert.equal(run.sent, 1);
    assert.equal(d.email.items.length, 2);
    const followUp = d.email.items[1].notification;
    assert.equal(followUp.kind, "cancelled");
    assert.equal(followUp.targetId, seeded.targets[0].id);
    assert.equal((await getRow(kv, followUp.id)).status, "sent");
    // The push notice never went out, so no push cancellation either.
    assert.equal(d.mobile_push.items.length, 1);
  }));

Deno.test("dispatch failure: a permanent failure fails at once with the upstream's words", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email"],
    });
    const d = recordingDispatchers();
    d.email.behaviour = () => ({
      status: "failed",
      error: "422 validation_error: invalid `to` address",
    });
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(run.failed, 1);
    const row = await getRow(kv, seeded.rows[0].id);
    assert.equal(row.status, "failed");
    assert.equal(row.error, "422 validation_error: invalid `to` address");
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    await sweep({ kv, dispatchers: d, now: () => T0 + HOUR });
    assert.equal(d.email.items.length, 1);
  }));

Deno.test("marking that throws: siblings are marked, the row is finished from the stored answer once the lease ends", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
    });
    const email = seeded.rows.find((r) => r.channel === "email")!;
    const d = recordingDispatchers();
    const faulty = interceptCommits(kv, rowTo("sent", email.id), {
      error: "disk I/O error",
    });
    const run = await sweep({ kv: faulty.kv, dispatchers: d, now: () => T0 });
    assert.equal(run.sent, 2);
    assert.equal(run.unmarked, 1);
    assert.equal((await getRow(kv, email.id)).status, "sending");

    // Still within the lease: left alone.
    await sweep({ kv, dispatchers: d, now: () => T0 + 30_000 });
    assert.equal((await getRow(kv, email.id)).status, "sending");
    const later = await sweep({
      kv,
      dispatchers: d,
      now: () => T0 + MINUTE,
    });
    // The provider's answer was stored before marking: no second send.
    assert.equal(later.sent, 1);
    assert.equal(d.email.items.length, 1);
    assert.equal((await getRow(kv, email.id)).status, "sent");
    assert.equal(await countKeys(kv, keys.noticeGroupLeases()), 0);
  }));

Deno.test("one failing row among siblings: only that row fails", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      instances: 3,
      channels: ["email"],
    });
    const bad = seeded.rows[1];
    const d = recordingDispatchers();
    d.email.behaviour = (item) =>
      item.notification.id === bad.id
        ? { status: "failed", error: "400 bad address" }
        : { status: "sent" };
    // And one stored row that is damaged beyond reading.
    const brokenId = "broken-" + crypto.randomUUID();
    await kv.atomic().set(keys.notification(brokenId), {
      id: brokenId,
      dueAt: T0,
    })
      .set(keys.notificationDue(T0, { id: brokenId, userId: "nobody" }), null)
      .commit();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(run.sent, 2);
    assert.equal(run.failed, 2);
    const rows = await getRows(kv, seeded.rows.map((r) => r.id));
    assert.deepEqual(rows.map((r) => r.status), ["sent", "failed", "sent"]);
    const broken = (await kv.get<Notification>(keys.notification(brokenId)))
      .value!;
    assert.equal(broken.status, "failed");
    assert.match(broken.error!, /could not be read/);
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
  }));

Deno.test("counts are propagated to the result and the stored last run", () =>
  withKv(async (kv) => {
    const a = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      instances: 3,
      channels: ["email"],
    });
    // Another action's notice gets voided (its target was applied already);
    // target 2 retries; target 1 fails.
    await seedAction(kv, {
      now: T0 - HOUR,
      scheduledAt: T0 - MINUTE,
      leadHours: 0,
      channels: ["email"],
    });
    assert.equal((await applyAt(kv, T0 - MINUTE)).applied, 1);
    const d = recordingDispatchers();
    d.email.behaviour = (item) =>
      item.notification.targetId === a.targets[1].id
        ? { status: "failed", error: "422 nope" }
        : item.notification.targetId === a.targets[2].id
        ? { status: "retry", error: "429 slow down", retryAfterMs: 60_000 }
        : { status: "sent" };
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.deepEqual(
      [run.processed, run.sent, run.failed, run.retried, run.voidedStale],
      [3, 1, 1, 1, 1],
    );
    const last = (await kv.get<SweepRun>(keys.sweepLastRun())).value!;
    assert.deepEqual(
      [
        last.processed,
        last.sent,
        last.failed,
        last.recovered,
        last.voidedStale,
      ],
      [3, 1, 1, 0, 1],
    );
  }));

Deno.test("orphaned user: the row fails on every channel with a clear error", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
    });
    await deleteUser(kv, seeded.userIds[0]);
    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(run.failed, 3);
    assert.equal(
      d.email.calls.length + d.webapp.calls.length + d.mobile_push.calls.length,
      0,
    );
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "failed");
      assert.equal(
        r.error,
        `user record missing for user_id=${seeded.userIds[0]}`,
      );
    }
  }));

Deno.test("webapp only: the banner row is marked sent, nothing is emailed or pushed", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["webapp"],
    });
    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(run.sent, 1);
    assert.equal(d.webapp.items.length, 1);
    assert.equal(d.email.calls.length + d.mobile_push.calls.length, 0);
    assert.equal((await getRow(kv, seeded.rows[0].id)).status, "sent");
  }));
