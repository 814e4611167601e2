/**
 * The lease a claim holds: a live sweep whose sends would outlast it renews
 * it, so a second sweep never takes (and sends) its rows; a push group whose
 * answer from Expo was stored is finished from it after a crash, never sent
 * again.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { sendGroup } from "@/lib/notices/dispatch.ts";
import { buildItems } from "@/lib/notices/items.ts";
import { keys } from "@/lib/kv/keys.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { createPushDispatcher } from "@/lib/channels/push.ts";
import { ExpoPushTransport } from "@/lib/channels/expo.ts";
import { startExpoFake } from "../fakes/expo_server.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  claimRows,
  countKeys,
  getRows,
  interceptCommits,
  MINUTE,
  rowTo,
  seedAction,
} from "../helpers/notice_fixtures.ts";

Deno.test("a holder whose lease is too short for a send renews it before sending: a second sweep meanwhile takes nothing", () =>
  withKv(async (kv) => {
    const start = Date.now();
    const seeded = await seedAction(kv, {
      now: start,
      scheduledAt: start + 10 * MINUTE,
      instances: 4,
      channels: ["email"],
    });
    const held = (await claimRows(kv, "email", seeded.rows, {
      now: Date.now(),
      leaseMs: 600,
    }))!;
    // The holder was slow to get to the send: 200 ms of lease left, less
    // than one dispatch (250 ms) needs.
    await new Promise((r) => setTimeout(r, 400));
    const d = recordingDispatchers();
    let second: Awaited<ReturnType<typeof sweep>> | null = null;
    d.email.beforeAnswer = async () => {
      // The first lease has ended; a second sweep comes round mid-send.
      await new Promise((r) => setTimeout(r, 250));
      second = await sweep(
        { kv, dispatchers: recordingDispatchers(), now: Date.now },
        { leaseMs: 600 },
      );
    };
    const { items } = await buildItems(kv, held.rows);
    const itemOf = new Map(items.map((i) => [i.notification.id, i]));
    const sent = await sendGroup(kv, d, held, itemOf, {
      timeoutMs: 2_000,
      leaseMs: 600,
      now: Date.now,
    });
    assert.ok(held.group.value.leaseUntil! > start + 1_000, "lease renewed");
    assert.equal(second!.recovered, 0);
    assert.equal(second!.processed, 0);
    assert.ok(sent.outcomes, "the holder kept its group");
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

Deno.test("a push to an owner with no device is marked sent and says so on the row", () =>
  withKv(async (kv) => {
    const fake = await startExpoFake();
    try {
      const T0 = Date.parse("2026-11-25T12:00:00Z");
      const seeded = await seedAction(kv, {
        now: T0,
        scheduledAt: T0 + 10 * MINUTE,
        channels: ["mobile_push"],
      });
      const transport = new ExpoPushTransport({
        accessToken: "expo-test",
        baseUrl: fake.url,
      });
      await sweep({
        kv,
        dispatchers: {
          ...recordingDispatchers(),
          mobile_push: createPushDispatcher({ kv, transport, now: () => T0 }),
        },
        now: () => T0,
      });
      const [row] = await getRows(kv, [seeded.rows[0].id]);
      assert.equal(row.status, "sent");
      assert.match(row.detail ?? "", /no registered devices/);
      assert.equal(fake.messages.length, 0);
    } finally {
      await fake.close();
    }
  }));
