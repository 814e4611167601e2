/** The outbox page pages like every other list: older messages, and back to the first page. */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { OutboxEmailSender } from "@/lib/channels/outbox.ts";

Deno.test("outbox page: 60 messages show 50, then the older ones, with a way back", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({ admin: true });
    const outbox = new OutboxEmailSender(app.kv);
    for (let i = 0; i < 60; i++) {
      const res = await outbox.send({
        to: `owner-${i}@example.test`,
        subject: `message ${i}`,
        html: "<p>hi</p>",
        text: "hi",
      });
      assert.ok(res.ok);
    }
    const get = async (path: string) => {
      const res = await app.request(path, {
        headers: { cookie: admin.cookie },
      });
      assert.equal(res.status, 200);
      return await res.text();
    };
    const first = await get("/admin/outbox");
    assert.equal(first.match(/data-label="Subject"/g)?.length, 50);
    const older = first.match(
      /href="(\/admin\/outbox\?cursor=[^"]+)"[^>]*>Older messages/,
    );
    assert.ok(older, "the first page links to older messages");
    assert.ok(!first.includes("First page"));
    const second = await get(older[1].replaceAll("&amp;", "&"));
    assert.equal(second.match(/data-label="Subject"/g)?.length, 10);
    assert.match(second, /href="\/admin\/outbox"[^>]*>← First page/);
    assert.ok(!second.includes("Older messages"));
  } finally {
    await app.close();
  }
});
