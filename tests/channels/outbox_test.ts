import assert from "node:assert/strict";
import {
  getOutboxMessage,
  listOutbox,
  OutboxEmailSender,
  OutboxPushTransport,
} from "@/lib/channels/outbox.ts";
import { newId } from "@/lib/ids.ts";

const mail = (to: string, subject = "Hello") => ({
  to,
  subject,
  html: `<p>${subject}</p>`,
  text: subject,
});

Deno.test("outbox: a sent email can be read back, newest first", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const sender = new OutboxEmailSender(kv);
    const to = `a-${newId()}@example.com`;
    const first = await sender.send(mail(to, "first"));
    const second = await sender.send(mail(to, "second"));
    assert.ok(first.ok && second.ok);
    const { items } = await listOutbox(kv, { limit: 10 });
    const mine = items.filter((m) => m.to === to);
    assert.deepEqual(mine.map((m) => m.kind === "email" && m.subject), [
      "second",
      "first",
    ]);
    const stored = await getOutboxMessage(kv, first.id!);
    assert.equal(stored?.kind, "email");
    assert.equal(stored?.kind === "email" && stored.text, "first");
  } finally {
    kv.close();
  }
});

Deno.test("outbox: a repeated idempotency key stores nothing new", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const sender = new OutboxEmailSender(kv);
    const to = `b-${newId()}@example.com`;
    const key = `k-${newId()}`;
    const a = await sender.send(mail(to), { idempotencyKey: key });
    const b = await sender.send(mail(to), { idempotencyKey: key });
    const batchKey = `k-${newId()}`;
    const c = await sender.sendBatch([mail(to), mail(to)], {
      idempotencyKey: batchKey,
    });
    const d = await sender.sendBatch([mail(to), mail(to)], {
      idempotencyKey: batchKey,
    });
    assert.ok(a.ok && b.ok && c.ok && d.ok);
    assert.equal(a.id, b.id);
    assert.deepEqual(c.ids, d.ids);
    const { items } = await listOutbox(kv, { limit: 50 });
    assert.equal(items.filter((m) => m.to === to).length, 3);
  } finally {
    kv.close();
  }
});

Deno.test("outbox: pages follow the cursor without repeats", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const sender = new OutboxEmailSender(kv);
    const subjects = Array.from({ length: 7 }, (_, i) => `m${i}`);
    for (const s of subjects) await sender.send(mail("p@example.com", s));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listOutbox>> = await listOutbox(
        kv,
        { limit: 3, cursor },
      );
      seen.push(...page.items.map((m) => m.kind === "email" ? m.subject : ""));
      cursor = page.cursor;
    } while (cursor);
    assert.deepEqual(seen, subjects.toReversed());
  } finally {
    kv.close();
  }
});

Deno.test("outbox: a batch over 100 is refused", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const res = await new OutboxEmailSender(kv).sendBatch(
      Array.from({ length: 101 }, () => mail("x@example.com")),
    );
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.transient, false);
  } finally {
    kv.close();
  }
});

Deno.test("outbox: push messages are stored with their data", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const instanceId = newId();
    const tickets = await new OutboxPushTransport(kv).send([{
      to: "ExponentPushToken[aaaaaaaaaaaaaaaa]",
      title: "Bot will restart soon",
      body: "Restarting soon.",
      data: {
        type: "scheduled-action",
        event: "scheduled_restart_notice",
        instanceId,
      },
      sound: "default",
      priority: "high",
    }]);
    assert.equal(tickets[0].status, "ok");
    const stored = await getOutboxMessage(
      kv,
      tickets[0].status === "ok" ? tickets[0].id : "",
    );
    assert.equal(stored?.kind, "push");
    assert.equal(
      stored?.kind === "push" && stored.data.instanceId,
      instanceId,
    );
  } finally {
    kv.close();
  }
});
