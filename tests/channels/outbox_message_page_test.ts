/**
 * One outbox message reads as a person would: whom it went to (a push names
 * its device's owner, not the Expo token), which action and instance it is
 * about, with links, and what kind of notice it is — no raw tag dump.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { addPushToken } from "@/lib/kv/users.ts";

const HOUR = 3_600_000;

Deno.test("an outbox message names its recipient, its action and its instance, not tags or a raw token", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const owner = `outbox-${crypto.randomUUID().slice(0, 8)}`;
    const token = `ExponentPushToken[${owner}-phone-0123456789]`;
    await apiOk(app, "PUT", `/api/admin/users/${owner}`, {
      email: `${owner}@example.test`,
      name: "Ada Byron",
    });
    await addPushToken(app.kv, owner, token);
    const bot = `${owner}-bot`;
    await apiOk(app, "PUT", `/api/admin/instances/${bot}`, {
      name: "Ada's helper",
      ownerId: owner,
      imageTag: "v1",
    });
    const created = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [bot],
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeChannels: ["email", "mobile_push"],
    });
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    const admin = await app.signIn({ admin: true });
    const messages = (await listOutbox(app.kv, { limit: 50 })).items
      .filter((m) =>
        m.kind === "push" ? m.to === token : m.to.startsWith(owner)
      );
    assert.equal(messages.length, 2);
    for (const m of messages) {
      const res = await app.request(`/admin/outbox/${m.id}`, {
        headers: { cookie: admin.cookie },
      });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /Ada Byron/);
      assert.match(html, new RegExp(`href="/admin/actions/${created.id}"`));
      assert.match(html, /Ada(&#x27;|'|&#39;)s helper/);
      assert.match(html, /· notice</);
      assert.doesNotMatch(html, /<dt>notification<\/dt>/);
      assert.ok(!html.includes(token), "the whole device token is not shown");
    }
  } finally {
    await app.close();
  }
});
