/**
 * One message per owner, however many sweeps run at once: an owner's rows
 * lie in one part of the due index (the part is picked by the owner), so
 * the sweep that holds that part gathers them all, and no other sweep sees
 * any of them. A row keyed by its id's part, as a database from before
 * keeps it, is still sent once.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  clock,
  deps,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putUser } from "@/lib/kv/users.ts";
import { DUE_SHARDS, shardOf } from "@/lib/kv/shards.ts";
import { countKeys, MINUTE, seedAction } from "../helpers/notice_fixtures.ts";
import type { Notification } from "@/lib/types.ts";

const HOUR = 3_600_000;

Deno.test("three sweeps at once: each owner's eight instances reach them in one email and one push", () =>
  withKv(async (kv) => {
    const c = clock();
    await seedCatalog(kv);
    // The helper gives instance n to owner n % 50: an owner's instances lie
    // far apart in id order.
    const owners = 50;
    const owned = await seedInstances(kv, owners * 8, { prefix: "part" });
    for (let n = 0; n < owners; n++) {
      await putUser(kv, `part-owner-${n}`, {
        email: `owner-${n}@example.test`,
      });
    }
    const scheduled = await scheduleAction(
      deps(kv, c.now),
      input(owned.map((i) => i.id), c.now(), {
        actionType: "scheduled_restart",
        scheduledAt: new Date(c.now() + 2 * HOUR).toISOString(),
        noticeLeadHours: 3,
        noticeChannels: ["email", "mobile_push"],
      }),
      { id: "admin" },
    );
    // The rows of each owner, by part of the due index.
    const partsOf = new Map<string, Set<unknown>>();
    for await (const e of kv.list({ prefix: keys.notificationsDue() })) {
      const row = (await kv.get<Notification>(keys.notification(
        e.key.at(-1) as string,
      ))).value!;
      const parts = partsOf.get(row.userId) ?? new Set();
      parts.add(e.key[1]);
      partsOf.set(row.userId, parts);
    }
    assert.equal(partsOf.size, owners);
    assert.ok(
      [...partsOf.values()].every((p) => p.size === 1),
      "an owner's rows in more than one part",
    );
    const used = new Set([...partsOf.values()].flatMap((p) => [...p]));
    assert.ok(used.size > 1 && used.size <= DUE_SHARDS, `${used.size} parts`);

    const d = recordingDispatchers({ email: 20, webapp: 20, mobile_push: 20 });
    const slow = () => new Promise<void>((r) => setTimeout(r, 3));
    d.email.beforeAnswer = slow;
    d.mobile_push.beforeAnswer = slow;
    const runs = await Promise.all(
      [0, 1, 2].map(() =>
        sweep({ kv, dispatchers: d, now: c.now }, { pageSize: 16 })
      ),
    );
    assert.ok(runs.filter((r) => r.sent > 0).length > 1, "sweeps overlapped");
    assert.equal(scheduled.targets.total, owners * 8);
    for (const channel of ["email", "mobile_push"] as const) {
      // Each owner's rows in one call: one message.
      const callsOf = new Map<string, Set<string>>();
      for (const call of d[channel].calls) {
        const items = d[channel].items.filter((i) =>
          call.ids.includes(i.notification.id)
        );
        for (const item of items) {
          const calls = callsOf.get(item.notification.userId) ?? new Set();
          calls.add(call.groupId);
          callsOf.set(item.notification.userId, calls);
        }
      }
      assert.equal(callsOf.size, owners, channel);
      const split = [...callsOf].filter(([, calls]) => calls.size > 1);
      assert.deepEqual(split.map(([u]) => u), [], `${channel}: owners split`);
    }
  }));

Deno.test("a row still keyed where its id placed it, beside its owner's key, is sent once and both keys go", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 2 * HOUR,
      leadHours: 3,
      instances: 40,
      channels: ["email"],
    });
    // The key a database from before gives each row, beside the new one.
    let doubled = 0;
    const op = kv.atomic();
    for (const r of seeded.rows) {
      const old = [
        "notifications_due",
        shardOf(r.id, DUE_SHARDS),
        r.dueAt,
        r.id,
      ];
      if (old[1] !== keys.notificationDue(r.dueAt, r)[1]) doubled++;
      op.set(old, null);
    }
    assert.ok((await op.commit()).ok);
    assert.ok(doubled > 10, `${doubled} rows with two keys`);
    const d = recordingDispatchers({ email: 5 });
    d.email.beforeAnswer = () => new Promise((r) => setTimeout(r, 2));
    await Promise.all(
      [0, 1, 2].map(() =>
        sweep({ kv, dispatchers: d, now: () => start }, { pageSize: 8 })
      ),
    );
    const sent = d.email.dispatchedIds();
    assert.equal(new Set(sent).size, seeded.rows.length);
    assert.equal(sent.length, seeded.rows.length, "a row sent twice");
    // The spare keys are dropped by the next sweep that meets them.
    await sweep({ kv, dispatchers: d, now: () => start + MINUTE });
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    assert.equal(d.email.dispatchedIds().length, seeded.rows.length);
  }));
