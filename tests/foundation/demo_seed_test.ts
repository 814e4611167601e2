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
import { getStageEntries } from "@/lib/kv/actions.ts";
import { getInstances } from "@/lib/kv/instances.ts";

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

Deno.test("demo: a rollout its gate paused after an unhealthy canary; later owners told it is on hold, the admin alerted", async () => {
  const app = await createTestApp();
  try {
    const seeded = await seedDemoData(
      app.kv,
      app.ctx.config.publicUrl,
      Date.now(),
      app.ctx,
    );
    assert.ok(seeded);
    const items = (await listActions(app.kv)).items;
    assert.deepEqual(items.map((a) => a.action.status), [
      "scheduled",
      "paused",
      "cancelled",
      "completed",
    ]);
    const paused = items.find((a) => a.action.status === "paused")!.action;
    const stages = (await getStageEntries(app.kv, paused.id)).map((e) =>
      e.value
    );
    assert.deepEqual(stages.map((s) => s.status), [
      "completed",
      "pending",
      "pending",
    ]);
    assert.equal(stages[0].gate?.verdict, "failed");
    assert.equal(stages[0].gate?.unhealthy, 1);

    const view = await getActionView(app.kv, paused.id, {
      pushViaOutbox: true,
    });
    const byName = new Map(view.targets.map((t) => [t.instanceName, t]));
    assert.equal(byName.get("Ops canary")?.status, "applied");
    const tags = await getInstances(
      app.kv,
      view.targets.map((t) => t.instanceId),
    );
    for (const name of ["Sam's sandbox", "Tom's on-call helper"]) {
      const t = byName.get(name)!;
      assert.equal(t.status, "pending", `${name} was not changed`);
      assert.equal(tags.get(t.instanceId)?.imageTag, "2026.11.2");
      assert.deepEqual(
        t.notices.filter((n) => n.kind === "on_hold")
          .map((n) => `${n.channel} ${n.status}`).sort(),
        ["email sent", "webapp sent"],
        `${name}'s owner was told it is on hold`,
      );
    }
    const canary = byName.get("Ops canary")!;
    assert.equal(tags.get(canary.instanceId)?.imageTag, "2026.12.1");

    const alerts = (await listOutbox(app.kv, { limit: 100 })).items.filter((
      m,
    ) => m.kind === "email" && /rollout paused after wave 1/.test(m.subject));
    assert.deepEqual(alerts.map((m) => m.to), [seeded.adminEmail]);
  } finally {
    await app.close();
  }
});
