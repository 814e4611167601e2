import assert from "node:assert/strict";
import { startExpoFake } from "../fakes/expo_server.ts";
import { ExpoPushTransport } from "@/lib/channels/expo.ts";
import {
  checkPushReceipts,
  createPushDispatcher,
} from "@/lib/channels/push.ts";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { ScheduledActionPushSchema } from "@/lib/channels/push_payload.ts";
import { createDispatchers } from "@/lib/channels/mod.ts";
import { OutboxEmailSender } from "@/lib/channels/outbox.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { testConfig } from "@/lib/config.ts";
import { getUser, putUser } from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";
import type { NoticeItem } from "@/lib/channels/types.ts";

const token = () =>
  `ExponentPushToken[${newId().replaceAll("-", "").slice(0, 22)}]`;

Deno.test("push texts: all four events, with and without a name and a version", () => {
  const cases = [
    [
      { actionType: "scheduled_restart", kind: "notice" },
      "Research bot will restart soon",
      "KiloClaw will restart soon",
    ],
    [
      { actionType: "version_change", kind: "notice" },
      "Research bot will upgrade soon",
      "KiloClaw will upgrade soon",
    ],
    [
      { actionType: "scheduled_restart", kind: "cancelled" },
      "Research bot: restart cancelled",
      "KiloClaw: restart cancelled",
    ],
    [
      { actionType: "version_change", kind: "cancelled" },
      "Research bot: upgrade cancelled",
      "KiloClaw: upgrade cancelled",
    ],
  ] as const;
  for (const [o, named, unnamed] of cases) {
    for (const openclawVersion of ["1.8.2", null]) {
      const withName = pushTexts(noticeItem({ ...o, openclawVersion }));
      const noName = pushTexts(
        noticeItem({ ...o, openclawVersion, instance: null }),
      );
      const blankName = pushTexts(
        noticeItem({ ...o, openclawVersion, instance: { name: "  " } }),
      );
      assert.equal(withName.title, named);
      assert.equal(noName.title, unnamed);
      assert.equal(blankName.title, unnamed);
      for (const t of [withName, noName, blankName]) {
        assert.ok(t.body.length <= 100, t.body);
        assert.doesNotMatch(t.title + t.body, /null|undefined/);
        assert.match(t.body, /Mar 5, 14:30 UTC/);
      }
      if (o.actionType === "version_change") {
        assert.match(
          withName.body,
          openclawVersion ? /OpenClaw 1\.8\.2/ : /image 2026\.03\.1/,
        );
      }
    }
  }
  const long = pushTexts(
    noticeItem({
      actionType: "version_change",
      openclawVersion: "9".repeat(120),
    }),
  );
  assert.equal(long.body.length, 100);
});

async function withExpo(
  fn: (
    ctx: {
      kv: Deno.Kv;
      fake: Awaited<ReturnType<typeof startExpoFake>>;
      transport: ExpoPushTransport;
    },
  ) => Promise<void>,
) {
  const fake = await startExpoFake();
  const kv = await Deno.openKv(":memory:");
  try {
    await fn({
      kv,
      fake,
      transport: new ExpoPushTransport({
        accessToken: "expo-test",
        baseUrl: fake.url,
        retryMinTimeoutMs: 1,
      }),
    });
  } finally {
    kv.close();
    await fake.close();
  }
}

async function storedItem(
  kv: Deno.Kv,
  tokens: string[],
  o = {},
): Promise<NoticeItem> {
  const item = noticeItem(o);
  const user = await putUser(kv, item.user.id, {
    email: item.user.email,
    name: item.user.name,
  });
  await kv.set(["users", user.id], { ...user, pushTokens: tokens });
  return { ...item, user: { ...user, pushTokens: tokens } };
}

Deno.test("push: one message per device, shaped as DESIGN says; no device means zero deliveries", async () => {
  await withExpo(async ({ kv, fake, transport }) => {
    const [a, b] = [token(), token()];
    const two = await storedItem(kv, [a, b], { actionType: "version_change" });
    const none = await storedItem(kv, []);
    const dispatcher = createPushDispatcher({ kv, transport, now: Date.now });
    const outcomes = await dispatcher.dispatch([two, none], {
      groupId: newId(),
      claimId: newId(),
      resend: false,
      signal: AbortSignal.timeout(10_000),
    });
    assert.deepEqual(outcomes.map((o) => o.status), ["sent", "sent"]);
    assert.deepEqual(fake.messages.map((m) => m.to), [a, b]);
    for (const m of fake.messages) {
      const { ticketId: _, ...message } = m;
      const parsed = ScheduledActionPushSchema.parse(message);
      assert.deepEqual(parsed.data, {
        type: "scheduled-action",
        event: "scheduled_version_change_notice",
        instanceId: two.notification.instanceId,
      });
      assert.equal(parsed.title, "Research bot will upgrade soon");
    }
    assert.equal(fake.calls[0].authorization, "Bearer expo-test");
  });
});

Deno.test("push: tokens Expo reports DeviceNotRegistered are removed, at send time and from receipts", async () => {
  await withExpo(async ({ kv, fake, transport }) => {
    const [live, goneNow, goneLater] = [token(), token(), token()];
    fake.unregistered.add(goneNow);
    fake.unregisteredInReceipts.add(goneLater);
    const item = await storedItem(kv, [live, goneNow, goneLater]);
    let now = Date.now();
    const dispatcher = createPushDispatcher({ kv, transport, now: () => now });
    const [outcome] = await dispatcher.dispatch([item], {
      groupId: newId(),
      claimId: newId(),
      resend: false,
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(outcome.status, "sent");
    assert.deepEqual((await getUser(kv, item.user.id))?.pushTokens, [
      live,
      goneLater,
    ]);

    assert.deepEqual(
      await checkPushReceipts({ kv, transport, now: () => now }),
      { checked: 0, removed: 0 },
      "not before 15 minutes",
    );
    now += 15 * 60_000;
    assert.deepEqual(
      await checkPushReceipts({ kv, transport, now: () => now }),
      { checked: 2, removed: 1 },
    );
    assert.deepEqual((await getUser(kv, item.user.id))?.pushTokens, [live]);
    assert.deepEqual(
      await checkPushReceipts({ kv, transport, now: () => now }),
      { checked: 0, removed: 0 },
      "each receipt is read once",
    );
  });
});

Deno.test("push: a user whose only device is stale is done, not retried", async () => {
  await withExpo(async ({ kv, fake, transport }) => {
    const gone = token();
    fake.unregistered.add(gone);
    const item = await storedItem(kv, [gone]);
    const [o] = await createPushDispatcher({ kv, transport, now: Date.now })
      .dispatch([item], {
        groupId: newId(),
        claimId: newId(),
        resend: false,
        signal: AbortSignal.timeout(10_000),
      });
    assert.equal(o.status, "sent");
    assert.deepEqual((await getUser(kv, item.user.id))?.pushTokens, []);
  });
});

Deno.test("push: Expo failing the request is retried later", async () => {
  await withExpo(async ({ kv, fake, transport }) => {
    fake.failNext({ status: 503 });
    const item = await storedItem(kv, [token()]);
    const [o] = await createPushDispatcher({ kv, transport, now: Date.now })
      .dispatch([item], {
        groupId: newId(),
        claimId: newId(),
        resend: false,
        signal: AbortSignal.timeout(10_000),
      });
    assert.equal(o.status, "retry");
  });
});

Deno.test("push: without EXPO_ACCESS_TOKEN or EXPO_BASE_URL it lands in the outbox; the webapp row needs no delivery", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const t = token();
    const item = await storedItem(kv, [t], { kind: "cancelled" });
    const dispatchers = createDispatchers({
      config: testConfig(),
      kv,
      email: new OutboxEmailSender(kv),
      now: Date.now,
    });
    const signal = AbortSignal.timeout(10_000);
    const [o] = await dispatchers.mobile_push.dispatch([item], {
      groupId: newId(),
      claimId: newId(),
      resend: false,
      signal,
    });
    assert.equal(o.status, "sent");
    const { items } = await listOutbox(kv, { limit: 10 });
    const push = items.find((m) => m.to === t);
    assert.equal(push?.kind, "push");
    assert.equal(
      push?.kind === "push" && push.title,
      "Research bot: restart cancelled",
    );
    assert.deepEqual(
      (await dispatchers.webapp.dispatch([item], {
        groupId: newId(),
        claimId: newId(),
        resend: false,
        signal,
      }))
        .map((x) => x.status),
      ["sent"],
    );
  } finally {
    kv.close();
  }
});

Deno.test("push: a receipt Expo does not have yet is looked for again later", async () => {
  await withExpo(async ({ kv, fake, transport }) => {
    const late = token();
    fake.unregisteredInReceipts.add(late);
    const item = await storedItem(kv, [late]);
    let now = Date.now();
    await createPushDispatcher({ kv, transport, now: () => now }).dispatch([
      item,
    ], {
      groupId: newId(),
      claimId: newId(),
      resend: false,
      signal: AbortSignal.timeout(10_000),
    });
    fake.receiptsNotReady.add(fake.messages[0].ticketId!);
    now += 15 * 60_000;
    assert.deepEqual(
      await checkPushReceipts({ kv, transport, now: () => now }),
      { checked: 0, removed: 0 },
    );
    assert.deepEqual((await getUser(kv, item.user.id))?.pushTokens, [late]);
    fake.receiptsNotReady.clear();
    now += 15 * 60_000;
    assert.deepEqual(
      await checkPushReceipts({ kv, transport, now: () => now }),
      { checked: 1, removed: 1 },
    );
    assert.deepEqual((await getUser(kv, item.user.id))?.pushTokens, []);
  });
});
