/**
 * The lease a claim holds: a live sweep whose sends would outlast it renews
 * it, so a second sweep never takes (and sends) its rows; a push group whose
 * answer from Expo was stored is finished from it after a crash, never sent
 * again.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "../../lib/notices/sweep.ts";
import { keys } from "../../lib/kv/keys.ts";
import { addPushToken } from "../../lib/kv/users.ts";
import { createPushDispatcher } from "../../lib/channels/push.ts";
import { ExpoPushTransport } from "../../lib/channels/expo.ts";
import { startExpoFake } from "../fakes/expo_server.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  countKeys,
  getRows,
  interceptCommits,
  MINUTE,
  rowTo,
  seedAction,
} from "./_fixtures.ts";

Deno.test("a sweep whose sends outlast its lease renews it: a second sweep meanwhile takes nothing", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 10 * MINUTE,
      instances: 6,
      channels: ["email"],
    });
    const d = recordingDispatchers({ email: 2 });
    let leaseKeys = 0;
    const watched = interceptCommits(kv, (key) => {
      if (key[0] === "notice_group_leases") leaseKeys++;
      return false; // watch every write, intercept none
    });
    // Three groups of two, one at a time, each send taking 300 ms: the last
    // starts after the first lease (600 ms) would have ended.
    d.email.beforeAnswer = () => new Promise((r) => setTimeout(r, 300));
    const first = sweep({ kv: watched.kv, dispatchers: d, now: Date.now }, {
      leaseMs: 600,
      dispatchTimeoutMs: 250,
      concurrency: 1,
    });
    await new Promise((r) => setTimeout(r, 700));
    const second = await sweep(
      { kv, dispatchers: recordingDispatchers(), now: Date.now },
      { leaseMs: 600 },
    );
    const run = await first;
    assert.equal(second.recovered, 0);
    assert.equal(second.processed, 0);
    assert.equal(run.sent + run.retried, 6);
    // Three leases taken, and renewed before the later sends.
    assert.ok(leaseKeys >= 5, `lease keys written ${leaseKeys} times`);
    const ids = d.email.dispatchedIds();
    assert.equal(new Set(ids).size, ids.length, "a row was sent twice");
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.notEqual(r.status, "sending");
    }
  }));

Deno.test("push: Expo's answer is stored before marking; after a crash the group is finished from it, not sent again", () =>
  withKv(async (kv) => {
    const fake = await startExpoFake();
    try {
      const T0 = Date.parse("2026-11-25T12:00:00Z");
      const seeded = await seedAction(kv, {
        now: T0,
        scheduledAt: T0 + 10 * MINUTE,
        instances: 3,
        channels: ["mobile_push"],
      });
      for (const [i, userId] of seeded.userIds.entries()) {
        await addPushToken(kv, userId, `ExponentPushToken[lease-${i}]`);
      }
      const transport = new ExpoPushTransport({
        accessToken: "expo-test",
        baseUrl: fake.url,
        retryMinTimeoutMs: 1,
      });
      const d = recordingDispatchers();
      const dispatchers = {
        ...d,
        mobile_push: createPushDispatcher({ kv, transport, now: () => T0 }),
      };
      // The sweep dies while marking: every "sent" mark fails.
      const dying = interceptCommits(kv, rowTo("sent"), {
        error: "process killed",
      });
      const run = await sweep({ kv: dying.kv, dispatchers, now: () => T0 });
      assert.equal(run.unmarked, 3);
      assert.equal(fake.messages.length, 3);

      const early = await sweep({ kv, dispatchers, now: () => T0 + 30_000 });
      assert.equal(early.sent, 0);
      const later = await sweep({ kv, dispatchers, now: () => T0 + MINUTE });
      assert.equal(later.sent, 3);
      assert.equal(fake.messages.length, 3, "a push was sent again");
      for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
        assert.equal(r.status, "sent");
      }
      assert.equal(await countKeys(kv, keys.noticeGroupLeases()), 0);
    } finally {
      await fake.close();
    }
  }));
