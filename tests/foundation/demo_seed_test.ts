/**
 * The demo plays its actions at past times; what it leaves must read true on
 * the pages a newcomer opens first: a push sent to Tom's phone shows as sent
 * (not "no device registered"), and each outbox message carries the time it
 * was sent, not the time the demo was created.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { seedDemoData } from "@/lib/demo_seed.ts";
import { listActions } from "@/lib/views/action_reads.ts";
import { getActionView } from "@/lib/views/action_view.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";

const HOUR = 3_600_000;

Deno.test("demo: the called-off restart's pushes to Tom's phone show as sent, and its messages carry their own times", async () => {
  const app = await createTestApp();
  try {
    const now = Date.now();
    const seeded = await seedDemoData(
      app.kv,
      app.ctx.config.publicUrl,
      now,
      app.ctx,
    );
    assert.ok(seeded);
    const cancelled = (await listActions(app.kv)).items.find((a) =>
      a.action.status === "cancelled"
    )!;
    const view = await getActionView(app.kv, cancelled.action.id, {
      pushViaOutbox: true,
    });
    const pushes = view.targets.flatMap((t) =>
      t.notices.filter((n) => n.channel === "mobile_push")
    );
    assert.equal(pushes.length, 4, "a notice and a call-off per instance");
    for (const p of pushes) {
      assert.equal(p.status, "sent");
      assert.equal(p.noDevice, false, `${p.kind}: Tom has a phone`);
      assert.ok(p.outboxId, `${p.kind}: its push is in the outbox`);
    }
    const push = view.notices.channels.filter((c) =>
      c.channel === "mobile_push"
    );
    assert.deepEqual(push.map((c) => [c.sent, c.notDelivered]), [[2, 0], [
      2,
      0,
    ]]);

    const applied = (await listActions(app.kv)).items.find((a) =>
      a.action.status === "completed"
    )!;
    const told = (await listOutbox(app.kv, { limit: 50 })).items.filter((m) =>
      m.tags.action === applied.action.id
    );
    assert.ok(told.length > 0);
    for (const m of told) {
      assert.ok(
        Date.parse(m.createdAt) < now - 47 * HOUR,
        `told two days ago, not at ${m.createdAt}`,
      );
    }
  } finally {
    await app.close();
  }
});
