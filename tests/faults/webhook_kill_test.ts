/**
 * kill -9 of the webhook sender at every step of a delivery. A child process
 * delivers events from a KV file to a local receiver that verifies every
 * signature and counts requests per `webhook-id`; it is killed right after
 * a claim, after the receiver answered (before the answer was recorded),
 * after the answer was recorded, and at random moments. A clean process
 * then finishes. Whatever the interleaving: every event reaches the
 * receiver, always under its one `webhook-id` (so the receiver processes it
 * once), in order per action; a second arrival happens only for an event
 * the killed sender held (claimed, not yet recorded: the window Standard
 * Webhooks' idempotency key is for); nothing is left held.
 */
import assert from "node:assert/strict";
import { startWebhookReceiver } from "../fakes/webhook_receiver.ts";
import { keys } from "@/lib/kv/keys.ts";
import { cancelAction } from "@/lib/scheduler/cancel_targets.ts";
import { createEndpoint } from "@/lib/webhooks/endpoints.ts";
import type { WebhookDelivery } from "@/lib/webhooks/delivery_rows.ts";
import { openKvFile, scheduleOwners, startWorker } from "./_harness.ts";

const WORKER = new URL("./_webhook_worker.ts", import.meta.url).pathname;
const ACTIONS = 15;

function startSender(kvPath: string, pauseAt?: string) {
  return startWorker(WORKER, [kvPath, pauseAt ?? "-", "60000"]);
}

Deno.test({
  name:
    "kill -9 of the webhook sender at every step: each event arrives under one webhook-id, in order, processed once",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiloclaw-webhook-kill-" });
  const kvPath = `${dir}/kv.sqlite3`;
  const receiver = startWebhookReceiver();
  try {
    const kv = await openKvFile(kvPath);
    const endpoint = await createEndpoint(
      kv,
      {
        url: receiver.url("/hooks/kill"),
        events: ["action.scheduled", "action.cancelled"],
        kind: "standard",
        description: null,
      },
      { actor: { id: "admin", email: null }, via: "api_token" },
      Date.now(),
    );
    receiver.register("/hooks/kill", endpoint.secret);
    const actions: string[] = [];
    for (let i = 0; i < ACTIONS; i++) {
      const s = await scheduleOwners(kv, {
        owners: 1,
        label: `hook${i}`,
        scheduledAt: Date.now() + 3_600_000,
        leadHours: 1,
      });
      await cancelAction({ kv, now: Date.now }, s.actionId);
      actions.push(s.actionId);
    }
    kv.close();

    const plan: string[] = [];
    for (const nth of [1, 2, 3]) {
      for (const p of ["claimed", "answered", "marked"]) {
        plan.push(`${p}:${nth}`);
      }
      plan.push("random");
    }
    const killedAt = new Map<string, number>();
    // Steps that never reached the point they were to pause at.
    const unpaused: { step: string; done: boolean }[] = [];
    // Events a killed sender had claimed and not recorded.
    const heldByKilled = new Set<string>();
    for (const step of plan) {
      const random = step === "random";
      const s = startSender(kvPath, random ? undefined : step);
      if (random) {
        await s.waitFor(/^ready$/, 20_000);
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
      } else {
        await s.waitFor(/^(paused|done)$/, 20_000);
      }
      await s.kill();
      if (!random && !s.lines.includes("paused")) {
        unpaused.push({ step, done: s.lines.includes("done") });
      }
      if (!s.lines.includes("done")) {
        const kind = step.split(":")[0];
        killedAt.set(kind, (killedAt.get(kind) ?? 0) + 1);
        const held = new Set<string>();
        for (const line of s.lines) {
          const [, name, , id] = line.split(" ");
          if (name === "claimed") held.add(id);
          if (name === "marked") held.delete(id);
        }
        for (const id of held) heldByKilled.add(id);
      }
    }
    // Each point was killed at: the first round always reaches its three
    // (nothing was sent before it); a later step finds nothing left to
    // pause on only when a random kill landed late enough for its sender
    // to send everything, and then it said so ("done").
    for (const kind of ["claimed", "answered", "marked"]) {
      assert.ok((killedAt.get(kind) ?? 0) >= 1, `never killed at ${kind}`);
    }
    assert.deepEqual(unpaused.filter((u) => !u.done), []);

    const last = startSender(kvPath);
    const status = await last.done;
    assert.equal(status.code, 0);
    assert.ok(last.lines.includes("done"), last.lines.join("\n"));

    // Every event processed once, signed right, in order per action.
    const path = "/hooks/kill";
    assert.deepEqual(receiver.rejected(path), []);
    const processed = receiver.processed(path);
    assert.equal(processed.length, 2 * ACTIONS);
    for (const a of actions) {
      assert.deepEqual(
        processed.filter((p) => p.actionId === a).map((p) => p.type),
        ["action.scheduled", "action.cancelled"],
      );
    }
    // Each event arrived under one id: as many ids as events, none unknown.
    const arrivals = receiver.arrivals(path);
    assert.equal(arrivals.size, 2 * ACTIONS);
    // A second arrival only for an event a killed sender held; the kills
    // after the receiver's answer made at least those three arrive again.
    const again = [...arrivals].filter(([, n]) => n > 1).map(([id]) => id);
    assert.ok(again.length >= 3, `only ${again.length} events arrived again`);
    assert.deepEqual(again.filter((id) => !heldByKilled.has(id)), []);

    const check = await openKvFile(kvPath);
    try {
      const rows: WebhookDelivery[] = [];
      for await (
        const e of check.list<WebhookDelivery>({
          prefix: keys.webhookDeliveries(),
        })
      ) rows.push(e.value);
      assert.equal(rows.length, 2 * ACTIONS);
      assert.deepEqual(
        rows.filter((r) => r.status !== "delivered").map((r) => r.id),
        [],
      );
      for (
        const prefix of [
          keys.webhookEvents(),
          keys.webhookDeliveriesDue(),
          keys.webhookDeliveryLeases(),
          ["webhook_queue"],
        ]
      ) {
        assert.deepEqual(
          await Array.fromAsync(check.list({ prefix })),
          [],
          `left under ${prefix[0]}`,
        );
      }
    } finally {
      check.close();
    }
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
