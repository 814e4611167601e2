/** The rules the sweep must keep (DESIGN.md), each with a case that breaks if the rule does. */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { MAX_ATTEMPTS, RETRY_BASE_MS } from "@/lib/notices/mark.ts";
import { keys } from "@/lib/kv/keys.ts";
import {
  allDispatchedIds,
  recordingDispatchers,
} from "../helpers/dispatchers.ts";
import {
  cancelActionAt,
  cancelTargetAt,
  claimRows,
  countKeys,
  getRow,
  getRows,
  HOUR,
  interceptCommits,
  MINUTE,
  seedAction,
} from "../helpers/notice_fixtures.ts";
import type { Notification } from "@/lib/types.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

async function followUps(kv: Deno.Kv, targetId: string) {
  const out: Notification[] = [];
  for await (
    const e of kv.list<string>({ prefix: keys.notificationsByTarget(targetId) })
  ) {
    const row = await getRow(kv, e.value);
    if (row.kind === "cancelled") out.push(row);
  }
  return out;
}

Deno.test("per-target cancel while the notice is in flight: marking it sent queues the cancellation", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      instances: 2,
      channels: ["email"],
    });
    const cancelled = seeded.targets[0];
    const d = recordingDispatchers();
    d.email.beforeAnswer = () => cancelTargetAt(kv, seeded, cancelled.id, T0);
    await sweep({ kv, dispatchers: d, now: () => T0 });
    d.email.beforeAnswer = null;

    const queued = await followUps(kv, cancelled.id);
    assert.equal(queued.length, 1);
    assert.equal(queued[0].status, "pending");
    assert.equal(queued[0].dueAt, T0);
    assert.equal(queued[0].channel, "email");
    assert.deepEqual(await followUps(kv, seeded.targets[1].id), []);

    const run = await sweep({ kv, dispatchers: d, now: () => T0 + MINUTE });
    assert.equal(run.sent, 1);
    assert.equal(d.email.items.at(-1)!.notification.id, queued[0].id);
  }));

Deno.test("whole cancel while notices are in flight: each sent channel gets one cancellation", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email", "mobile_push"],
    });
    const d = recordingDispatchers();
    d.email.beforeAnswer = () => cancelActionAt(kv, seeded, T0);
    await sweep({ kv, dispatchers: d, now: () => T0 });
    const queued = await followUps(kv, seeded.targets[0].id);
    assert.deepEqual(queued.map((r) => r.channel).sort(), [
      "email",
      "mobile_push",
    ]);
    // Cancelling again (or a retried cancel) never queues a second follow-up.
    await cancelTargetAt(kv, seeded, seeded.targets[0].id, T0 + MINUTE);
    assert.equal((await followUps(kv, seeded.targets[0].id)).length, 2);
  }));

Deno.test("cancel before the window: pending notices fail and nothing is ever sent", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 3 * HOUR,
      leadHours: 1,
    });
    await cancelActionAt(kv, seeded, T0);
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "failed");
      assert.equal(r.error, "action cancelled before notice was dispatched");
    }
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => T0 + 2 * HOUR + 1 });
    assert.deepEqual(allDispatchedIds(d), []);
    assert.equal((await followUps(kv, seeded.targets[0].id)).length, 0);
  }));

Deno.test("transient failures back off (honouring Retry-After) and give up after 5 attempts", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 2 * HOUR,
      leadHours: 2,
      channels: ["email"],
    });
    const id = seeded.rows[0].id;
    const d = recordingDispatchers();
    d.email.behaviour = () => ({
      status: "retry",
      error: "429 rate limited",
      retryAfterMs: 5 * MINUTE,
    });
    await sweep({ kv, dispatchers: d, now: () => T0 });
    let row = await getRow(kv, id);
    assert.equal(row.status, "pending");
    assert.equal(row.attempts, 1);
    assert.equal(row.dueAt, T0 + 5 * MINUTE);
    assert.equal(await countKeys(kv, keys.notificationsDue()), 1);
    // Not due again before its time.
    await sweep({ kv, dispatchers: d, now: () => row.dueAt - 1 });
    assert.equal(d.email.items.length, 1);

    d.email.behaviour = () => ({ status: "retry", error: "503 upstream" });
    const groups = new Set<string>();
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      const at = row.dueAt;
      await sweep({ kv, dispatchers: d, now: () => at });
      groups.add(d.email.calls.at(-1)!.groupId);
      row = await getRow(kv, id);
      assert.equal(row.attempts, attempt);
      if (attempt < MAX_ATTEMPTS) {
        const delay = row.dueAt - at;
        const ceiling = RETRY_BASE_MS * 2 ** (attempt - 1);
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `delay ${delay}`);
      }
    }
    assert.equal(row.status, "failed");
    assert.equal(row.error, "gave up after 5 attempts: 503 upstream");
    assert.equal(d.email.items.length, MAX_ATTEMPTS);
    // Every retry replayed the same email batch.
    assert.equal(groups.size, 1);
    assert.equal(groups.has(d.email.calls[0].groupId), true);
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
  }));

Deno.test("a hanging dispatcher times out and the row is retried, not lost", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["mobile_push", "webapp"],
    });
    const d = recordingDispatchers();
    d.mobile_push.behaviour = () => "hang";
    const run = await sweep({ kv, dispatchers: d, now: () => T0 }, {
      dispatchTimeoutMs: 20,
    });
    assert.equal(run.sent, 1);
    assert.equal(run.retried, 1);
    const push = await getRow(kv, seeded.rows[0].id);
    assert.equal(push.status, "pending");
    assert.match(push.error!, /timed out/);
  }));

Deno.test("recovery after a crash between claim and mark: back to pending when the lease ends, sent once more in the same group", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      instances: 3,
      channels: ["email"],
    });
    // A sweep that claimed and sealed its group, then died.
    const held = await claimRows(kv, "email", seeded.rows, {
      now: T0,
      leaseMs: MINUTE,
    });
    assert.equal(held!.rows.length, 3);
    const groupId = held!.group.value.id;

    const d = recordingDispatchers();
    const early = await sweep({
      kv,
      dispatchers: d,
      now: () => T0 + MINUTE - 1,
    });
    assert.equal(early.recovered, 0);
    assert.deepEqual(allDispatchedIds(d), []);

    const run = await sweep({ kv, dispatchers: d, now: () => T0 + MINUTE });
    assert.equal(run.recovered, 3);
    assert.equal(run.sent, 3);
    assert.deepEqual(d.email.calls.map((c) => c.groupId), [groupId]);
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "sent");
      assert.equal(r.deliveryUncertain, true);
    }
    assert.equal(await countKeys(kv, keys.noticeGroupLeases()), 0);
    assert.equal(await countKeys(kv, ["notice_groups"]), 0);
  }));

Deno.test("two sweeps started together over 1,000 rows dispatch each row once", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      instances: 334,
    });
    const d = recordingDispatchers({
      email: 100,
      mobile_push: 100,
      webapp: 100,
    });
    // One of them also meets "database is locked" now and then.
    let n = 0;
    const busy = interceptCommits(kv, () => true, {
      pick: () => n++ % 3 === 0,
      times: 100,
      error: "database is locked",
    });
    const [a, b] = await Promise.all([
      sweep({ kv, dispatchers: d, now: () => T0 }, { pageSize: 100 }),
      sweep({ kv: busy.kv, dispatchers: d, now: () => T0 }, { pageSize: 100 }),
    ]);
    assert.ok(busy.hits() > 0);
    const ids = allDispatchedIds(d);
    assert.equal(ids.length, 1002);
    assert.equal(new Set(ids).size, 1002);
    assert.equal(a.sent + b.sent, 1002);
    const rows = await getRows(kv, seeded.rows.map((r) => r.id));
    assert.equal(rows.filter((r) => r.status === "sent").length, 1002);
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    assert.equal(await countKeys(kv, keys.noticeGroupLeases()), 0);
  }));

Deno.test("lead window boundary: not due one millisecond before, due at the moment", () =>
  withKv(async (kv) => {
    const scheduledAt = T0 + 5 * HOUR;
    const seeded = await seedAction(kv, { now: T0, scheduledAt, leadHours: 2 });
    const opens = scheduledAt - 2 * HOUR;
    const d = recordingDispatchers();
    const before = await sweep({ kv, dispatchers: d, now: () => opens - 1 });
    assert.equal(before.processed, 0);
    assert.deepEqual(allDispatchedIds(d), []);
    const at = await sweep({ kv, dispatchers: d, now: () => opens });
    assert.equal(at.sent, 3);
    assert.deepEqual(
      allDispatchedIds(d).sort(),
      seeded.rows.map((r) => r.id).sort(),
    );
  }));

Deno.test("a write in progress is left alone; an abandoned one's rows are failed", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email"],
      visible: false,
    });
    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    assert.equal(run.deferred, 1);
    assert.equal((await getRow(kv, seeded.rows[0].id)).status, "pending");
    const late = await sweep({
      kv,
      dispatchers: d,
      now: () => T0 + 20 * MINUTE,
    });
    assert.equal(late.failed, 1);
    assert.deepEqual(allDispatchedIds(d), []);
    assert.match(
      (await getRow(kv, seeded.rows[0].id)).error!,
      /never fully written/,
    );
  }));

Deno.test("the sweep reads due rows only: 20,000 stored rows not yet due are never touched", () =>
  withKv(async (kv) => {
    // Due-index keys of far-future rows (the records are irrelevant: they must not be read).
    for (let i = 0; i < 20_000; i += 1000) {
      const op = kv.atomic();
      for (let j = i; j < i + 1000; j++) {
        op.set(
          keys.notificationDue(T0 + 30 * 24 * HOUR, {
            id: `future-${j}`,
            userId: `u-${j % 7}`,
          }),
          null,
        );
      }
      await op.commit();
    }
    await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email"],
    });
    let listed = 0;
    const counting = new Proxy(kv, {
      get(target, prop) {
        if (prop === "list") {
          return (sel: Deno.KvListSelector, o?: Deno.KvListOptions) => {
            const it = target.list(sel, o);
            const next = it.next.bind(it);
            it.next = async () => {
              const r = await next();
              if (!r.done) listed++;
              return r;
            };
            return it;
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const d = recordingDispatchers();
    const run = await sweep({ kv: counting, dispatchers: d, now: () => T0 });
    assert.equal(run.sent, 1);
    assert.ok(listed <= 2, `listed ${listed} keys`);
  }));

Deno.test("a cancel landing between the mark's read and its commit still gets its follow-up", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      scheduledAt: T0 + 10 * MINUTE,
      channels: ["email"],
    });
    const d = recordingDispatchers();
    const racing = interceptCommits(
      kv,
      (key, value) =>
        key[0] === "notifications" &&
        (value as Notification | null)?.status === "sent",
      {
        times: 1,
        before: () => cancelTargetAt(kv, seeded, seeded.targets[0].id, T0),
      },
    );
    const run = await sweep({ kv: racing.kv, dispatchers: d, now: () => T0 });
    assert.equal(racing.hits(), 1);
    assert.equal(run.sent, 1);
    const queued = await followUps(kv, seeded.targets[0].id);
    assert.equal(queued.length, 1);
    assert.equal(queued[0].status, "pending");
  }));
