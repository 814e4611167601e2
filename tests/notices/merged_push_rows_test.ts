/**
 * An owner with one device and ten bots in one action gets one merged push;
 * every row that push carried is recorded as delivered, in the outbox and
 * through Expo, and the action page counts none of them as "no device".
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, type TestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { startExpoFake } from "../fakes/expo_server.ts";
import type { ActionView } from "@/lib/views/action_view_model.ts";

const HOUR = 3_600_000;

async function tenBotsOneDevice(app: TestApp) {
  await seedCatalog(app.kv);
  const owner = `merged-${crypto.randomUUID().slice(0, 8)}`;
  await apiOk(app, "PUT", `/api/admin/users/${owner}`, {
    email: `${owner}@example.test`,
  });
  await addPushToken(app.kv, owner, `ExponentPushToken[${owner}-phone]`);
  const bots = Array.from({ length: 10 }, (_, i) => `${owner}-bot-${i}`);
  for (const [i, bot] of bots.entries()) {
    await apiOk(app, "PUT", `/api/admin/instances/${bot}`, {
      name: `Bot ${i}`,
      ownerId: owner,
      imageTag: "v1",
    });
  }
  const created = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
    actionType: "scheduled_restart",
    instanceIds: bots,
    scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
    noticeChannels: ["mobile_push"],
  });
  const run = await apiOk(app, "POST", "/api/admin/notices/sweep");
  assert.equal(run.sent, 10);
  return created.id as string;
}

function assertAllDelivered(view: ActionView) {
  const push = view.notices.channels.find((c) =>
    c.channel === "mobile_push" && c.kind === "notice"
  )!;
  assert.deepEqual(
    { sent: push.sent, notDelivered: push.notDelivered },
    { sent: 10, notDelivered: 0 },
  );
  const rows = view.targets.flatMap((t) => t.notices);
  assert.equal(rows.length, 10);
  for (const n of rows) {
    assert.equal(n.status, "sent");
    assert.equal(n.noDevice, false, `row ${n.id} says "no device"`);
  }
}

Deno.test("a merged push through the outbox marks every row it carried as delivered", async () => {
  const app = await createTestApp();
  try {
    const actionId = await tenBotsOneDevice(app);
    const pushes = (await listOutbox(app.kv, { limit: 500 })).items.filter((
      m,
    ) => m.kind === "push");
    assert.equal(pushes.length, 1);
    const view = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${actionId}/progress`,
    ) as ActionView;
    assertAllDelivered(view);
    // Each row leads to the one message that carried it.
    const ids = new Set(
      view.targets.flatMap((t) => t.notices).map((n) => n.outboxId),
    );
    assert.deepEqual([...ids], [pushes[0].id]);
  } finally {
    await app.close();
  }
});

Deno.test("a merged push through Expo marks every row it carried as delivered", async () => {
  const expo = await startExpoFake();
  const app = await createTestApp({
    config: { expoBaseUrl: expo.url, pushViaExpo: true },
  });
  try {
    const actionId = await tenBotsOneDevice(app);
    assert.equal(expo.messages.length, 1);
    const view = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${actionId}/progress`,
    ) as ActionView;
    assertAllDelivered(view);
  } finally {
    await app.close();
    await expo.close();
  }
});
