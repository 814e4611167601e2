/**
 * Cancelling through the API keeps who did it, when and why (shown on the
 * action page) and writes the same reason to the audit log; a repeat changes
 * nothing.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { seedCatalog, seedInstances } from "./helpers.ts";
import { listCancellations } from "@/lib/scheduler/cancellations.ts";
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
