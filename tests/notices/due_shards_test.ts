/**
 * The due index in parts: concurrent sweeps take whole parts under a lease,
 * so they never race for the same rows (no claim lost to one another, each
 * row sent once); a part whose sweep died is served once its lease ends; a
 * sweep reads its parts merged in due order; keys written before the parts
 * are still served; the health lag looks at every part.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import {
  allDispatchedIds,
  recordingDispatchers,
} from "../helpers/dispatchers.ts";
import { countKeys, MINUTE, seedAction } from "../helpers/notice_fixtures.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { DueReader, parseDueKey } from "@/lib/notices/due_index.ts";
import { keys } from "@/lib/kv/keys.ts";
import { DUE_SHARDS, shardOf } from "@/lib/kv/shards.ts";
import { newId } from "@/lib/ids.ts";
import { sweepLagMs } from "@/lib/operations/health.ts";
import type { Notification } from "@/lib/types.ts";

const HOUR = 3_600_000;

/** A fresh owner id whose rows' due keys lie in `shard`. */
function ownerIn(shard: number): string {
  for (;;) {
    const id = newId();
    if (shardOf(id, DUE_SHARDS) === shard) return id;
  }
}

Deno.test("three sweeps started at once read apart: no claim lost to one another, every row sent once", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 300,
    });
    const d = recordingDispatchers({ email: 20, webapp: 20, mobile_push: 20 });
    // Each send takes a moment, so the three sweeps overlap throughout.
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 3));
    };
    d.email.beforeAnswer = slow;
    d.mobile_push.beforeAnswer = slow;
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        sweep({ kv, dispatchers: d, now: () => start }, { pageSize: 50 })
      ),
    );
    assert.equal(
      runs.reduce((n, r) => n + r.claimsLost, 0),
      0,
      `claims lost: ${runs.map((r) => r.claimsLost)}`,
    );
    const sent = allDispatchedIds(d);
    assert.equal(sent.length, seeded.rows.length);
    assert.equal(new Set(sent).size, seeded.rows.length, "a row sent twice");
    assert.equal(
      runs.reduce((n, r) => n + r.sent, 0),
      seeded.rows.length,
    );
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    assert.equal(
      await countKeys(kv, ["due_shard_leases"]),
      0,
      "leases given back",
    );
  }));

Deno.test("a part held by a sweep that died waits for its lease, then the next sweep serves it", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 40,
      channels: ["email"],
    });
    const deadShard = shardOf(seeded.rows[0].userId, DUE_SHARDS);
    await kv.set(keys.dueShardLease(deadShard), {
      sweepId: "a sweep that was killed",
      until: start + MINUTE,
    });
    const inDead = seeded.rows.filter((r) =>
      shardOf(r.userId, DUE_SHARDS) === deadShard
    );
    const d = recordingDispatchers();
    const first = await sweep({ kv, dispatchers: d, now: () => start });
    assert.equal(first.sent, seeded.rows.length - inDead.length);
    assert.ok(
      inDead.every((r) => !d.email.dispatchedIds().includes(r.id)),
      "a held part was read",
    );
    const later = await sweep({
      kv,
      dispatchers: d,
      now: () => start + MINUTE + 1,
    });
    assert.equal(later.sent, inDead.length);
    assert.equal(new Set(d.email.dispatchedIds()).size, seeded.rows.length);
    assert.equal(await countKeys(kv, ["due_shard_leases"]), 0);
  }));

Deno.test("a sweep reads the parts it holds merged in due order", () =>
  withKv(async (kv) => {
    const want: string[] = [];
    const op = kv.atomic();
    for (let i = 0; i < 60; i++) {
      const id = newId();
      const userId = ownerIn(i % DUE_SHARDS);
      // Due times interleave across the parts, some equal.
      const dueAt = 1_000 + ((i * 37) % 25);
      op.set(keys.notificationDue(dueAt, { id, userId }), null);
      want.push(`${String(dueAt).padStart(6, "0")}/${id}`);
    }
    await op.commit();
    want.sort();
    const reader = new DueReader(kv, 10_000, 7);
    for (let s = 0; s < DUE_SHARDS; s++) reader.add(s);
    const got: string[] = [];
    for (;;) {
      const page = await reader.nextPage();
      if (!page.length) break;
      assert.ok(page.length <= 7);
      got.push(
        ...page.map((k) => `${String(k.dueAt).padStart(6, "0")}/${k.id}`),
      );
    }
    assert.deepEqual(got, want);
  }));

Deno.test("a due key written before the parts is still served, and goes", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 2,
      channels: ["email"],
    });
    const old = seeded.rows[0];
    const row = (await kv.get<Notification>(keys.notification(old.id))).value!;
    await kv.atomic()
      .delete(keys.notificationDue(row.dueAt, row))
      .set(["notifications_due", row.dueAt, row.id], null)
      .commit();
    assert.deepEqual(
      parseDueKey(["notifications_due", row.dueAt, row.id]),
      {
        key: ["notifications_due", row.dueAt, row.id],
        dueAt: row.dueAt,
        id: row.id,
      },
    );
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => start });
    assert.deepEqual(
      d.email.dispatchedIds().sort(),
      seeded.rows.map((r) => r.id).sort(),
    );
    // Claimed under the old key: it is debris the next sweep drops.
    await sweep({ kv, dispatchers: d, now: () => start + MINUTE });
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    assert.equal(d.email.dispatchedIds().length, 2);
  }));

Deno.test("the health lag is the oldest due row's, whichever part it is in", () =>
  withKv(async (kv) => {
    const now = Date.now();
    const start = now - HOUR;
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: now + HOUR,
      leadHours: 3,
      // Forty rows: one lands in the last part but for a chance of 1 in 100,000.
      instances: 40,
      channels: ["email"],
    });
    // Re-time the rows: the oldest in the last part, newer ones elsewhere.
    const last = DUE_SHARDS - 1;
    const oldest = seeded.rows.find((r) =>
      shardOf(r.userId, DUE_SHARDS) === last
    );
    assert.ok(oldest, "a row in the last part");
    for (const r of seeded.rows) {
      const dueAt = r.id === oldest.id ? now - 7 * MINUTE : now - MINUTE;
      const e = await kv.get<Notification>(keys.notification(r.id));
      await kv.atomic()
        .delete(keys.notificationDue(e.value!.dueAt, r))
        .set(keys.notification(r.id), { ...e.value!, dueAt })
        .set(keys.notificationDue(dueAt, r), null)
        .commit();
    }
    assert.equal(await sweepLagMs(kv, now), 7 * MINUTE);
  }));

Deno.test("a part whose hold ends while a sweep runs is taken by that sweep between pages", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 40,
      channels: ["email"],
    });
    const deadShard = shardOf(seeded.rows[0].userId, DUE_SHARDS);
    await kv.set(keys.dueShardLease(deadShard), {
      sweepId: "a sweep that was killed",
      until: start + MINUTE,
    });
    // The clock passes the dead hold's end once the first group is out.
    let now = start;
    const d = recordingDispatchers({ email: 5 });
    d.email.beforeAnswer = async () => {
      now = start + 2 * MINUTE;
      await Promise.resolve();
    };
    const run = await sweep({ kv, dispatchers: d, now: () => now }, {
      pageSize: 5,
      concurrency: 1,
    });
    assert.equal(run.sent, seeded.rows.length);
    assert.equal(new Set(d.email.dispatchedIds()).size, seeded.rows.length);
    assert.equal(await countKeys(kv, ["due_shard_leases"]), 0);
  }));
