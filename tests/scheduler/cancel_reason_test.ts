/**
 * Cancelling through the API keeps who did it, when and why (shown on the
 * action page) and writes the same reason to the audit log; a repeat changes
 * nothing.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { listCancellations } from "@/lib/scheduler/cancel_with_reason.ts";
import { listAudit } from "@/lib/kv/audit.ts";

Deno.test("API: cancel with a reason, for one instance and for the whole action", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const inst = await seedInstances(app.kv, 2);
    const res = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: inst.map((i) => i.id),
      scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const { id } = await res.json();
    const detail =
      await (await app.api("GET", `/api/admin/scheduled-actions/${id}`)).json();
    const targetId = detail.targets.items[0].target.id;

    const one = await app.api(
      "POST",
      `/api/admin/scheduled-actions/${id}/targets/${targetId}/cancel`,
      { reason: "owner asked" },
    );
    assert.equal(one.status, 200);
    await one.body?.cancel();
    const all = await app.api(
      "POST",
      `/api/admin/scheduled-actions/${id}/cancel`,
    );
    assert.equal(all.status, 200);
    await all.body?.cancel();
    const again = await app.api(
      "POST",
      `/api/admin/scheduled-actions/${id}/cancel`,
      { reason: "second thoughts" },
    );
    assert.equal(again.status, 200);
    await again.body?.cancel();

    const records = await listCancellations(app.kv, id);
    assert.deepEqual(
      records.map((c) => [c.targetId, c.reason, c.byLabel]),
      [
        [null, null, "Admin API token <api-token@kiloclaw.invalid>"],
        [
          targetId,
          "owner asked",
          "Admin API token <api-token@kiloclaw.invalid>",
        ],
      ],
    );
    const view = await (await app.api(
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    )).json();
    assert.equal(view.cancellation.reason, null);
    assert.equal(
      view.targets.find((t: { id: string }) => t.id === targetId).cancellation
        .reason,
      "owner asked",
    );
    const audit = await listAudit(app.kv, {
      subject: { type: "action", id },
      limit: 20,
    });
    const cancels = audit.items.filter((e) => e.change.endsWith(".cancel"));
    assert.ok(
      cancels.some((e) =>
        e.change === "target.cancel" && e.reason === "owner asked"
      ),
      "the instance's cancel is in the audit with its reason",
    );
    assert.ok(
      cancels.some((e) => e.change === "action.cancel"),
      "the action's cancel is in the audit",
    );
    const bad = await app.api(
      "POST",
      `/api/admin/scheduled-actions/${id}/cancel`,
      { reason: "x".repeat(300) },
    );
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await app.close();
  }
});

Deno.test("API: ten parallel cancels of one action (and of one instance) record one cancel, with the reason the action shows", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const inst = await seedInstances(app.kv, 3);
    const res = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: inst.map((i) => i.id),
      scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const { id } = await res.json();
    const detail =
      await (await app.api("GET", `/api/admin/scheduled-actions/${id}`)).json();
    const targetId = detail.targets.items[0].target.id;

    await app.serve(async (origin) => {
      // Ten requests on ten connections at once, as ten admins' clicks would be.
      const cancelAll = (path: string, what: string) =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            fetch(`${origin}${path}`, {
              method: "POST",
              headers: {
                authorization: `Bearer ${app.adminToken}`,
                "content-type": "application/json",
              },
              body: JSON.stringify({ reason: `${what} reason ${i}` }),
            }).then(async (r) => [r.status, await r.json()] as const)),
        );
      const ones = await cancelAll(
        `/api/admin/scheduled-actions/${id}/targets/${targetId}/cancel`,
        "instance",
      );
      assert.deepEqual(ones.map(([s]) => s), Array(10).fill(200));
      const alls = await cancelAll(
        `/api/admin/scheduled-actions/${id}/cancel`,
        "action",
      );
      assert.deepEqual(alls.map(([s]) => s), Array(10).fill(200));
      assert.ok(alls.every(([, a]) => a.action.status === "cancelled"));
    });

    const view = await (await app.api(
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    )).json();
    const audit = await listAudit(app.kv, {
      subject: { type: "action", id },
      limit: 50,
    });
    const actionCancels = audit.items.filter((e) =>
      e.change === "action.cancel"
    );
    assert.equal(actionCancels.length, 1, JSON.stringify(actionCancels));
    assert.match(view.cancellation.reason, /^action reason \d$/);
    assert.equal(actionCancels[0].reason, view.cancellation.reason);
    assert.deepEqual(actionCancels[0].details.status, [
      "scheduled",
      "cancelled",
    ]);

    const targetCancels = audit.items.filter((e) =>
      e.change === "target.cancel"
    );
    assert.equal(targetCancels.length, 1, JSON.stringify(targetCancels));
    const shown = view.targets.find((t: { id: string }) => t.id === targetId)
      .cancellation.reason;
    assert.match(shown, /^instance reason \d$/);
    assert.equal(targetCancels[0].reason, shown);
  } finally {
    await app.close();
  }
});
