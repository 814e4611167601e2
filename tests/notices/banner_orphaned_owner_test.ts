/**
 * An owner deleted before their notices go out: with the product's own
 * dispatchers (the banner delivered by its claim, email and push), every row
 * fails with the same clear error, and none is marked sent.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { webappDispatcher } from "@/lib/channels/webapp.ts";
import { readTargetRows } from "@/lib/notices/rows.ts";
import type { Notification } from "@/lib/types.ts";

const HOUR = 3_600_000;

Deno.test("orphaned owner: the banner row fails like email and push, with 'user record missing'", async () => {
  const app = await createTestApp();
  try {
    // The channel under test is the product's banner, delivered by its claim.
    assert.equal(app.ctx.dispatchers.webapp, webappDispatcher);
    assert.ok(app.ctx.dispatchers.webapp.deliveredByClaim);
    await seedCatalog(app.kv);
    const gone = `gone-${crypto.randomUUID().slice(0, 8)}`;
    const kept = `kept-${crypto.randomUUID().slice(0, 8)}`;
    for (const id of [gone, kept]) {
      const res = await app.api("PUT", `/api/admin/users/${id}`, {
        email: `${id}@example.test`,
      });
      assert.equal(res.status, 200);
      await addPushToken(app.kv, id, `ExponentPushToken[${id}-phone]`);
      const inst = await app.api("PUT", `/api/admin/instances/${id}-bot`, {
        name: `${id}'s bot`,
        ownerId: id,
        imageTag: "v1",
      });
      assert.equal(inst.status, 200, await inst.text());
    }
    const created = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [`${gone}-bot`, `${kept}-bot`],
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeChannels: ["webapp", "email", "mobile_push"],
    });
    assert.equal(created.status, 201);
    const { id } = await created.json();
    const deleted = await app.api("DELETE", `/api/admin/users/${gone}`);
    assert.ok(deleted.status < 300, await deleted.text());

    const run = await (await app.api("POST", "/api/admin/notices/sweep"))
      .json();
    assert.deepEqual({ sent: run.sent, failed: run.failed }, {
      sent: 3,
      failed: 3,
    });

    const detail = await (await app.api(
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    )).json();
    const rows: Notification[] = [];
    for (const item of detail.targets.items) {
      rows.push(
        ...(await readTargetRows(app.kv, item.target.id)).map((e) => e.value),
      );
    }
    const byOwner = (userId: string) =>
      rows.filter((r) => r.userId === userId).map((r) => [
        r.channel,
        r.status,
        r.error,
      ]).sort();
    const missing = `user record missing for user_id=${gone}`;
    assert.deepEqual(byOwner(gone), [
      ["email", "failed", missing],
      ["mobile_push", "failed", missing],
      ["webapp", "failed", missing],
    ]);
    assert.deepEqual(byOwner(kept), [
      ["email", "sent", null],
      ["mobile_push", "sent", null],
      ["webapp", "sent", null],
    ]);
  } finally {
    await app.close();
  }
});
