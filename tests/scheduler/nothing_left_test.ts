/**
 * When every instance chosen is left out, the 400 says why in a sentence an
 * admin reads as written.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { seedCatalog, seedInstances } from "../helpers/scheduling.ts";

Deno.test("API: nothing left to schedule says why, in plain grammar", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const [held, destroyed] = await seedInstances(app.kv, 2);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const first = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [held.id],
      scheduledAt: at,
    });
    assert.equal(first.status, 201);
    await first.body?.cancel();
    const gone = await app.api("PUT", `/api/admin/instances/${destroyed.id}`, {
      name: destroyed.name,
      ownerId: destroyed.ownerId,
      imageTag: "v1",
      status: "destroyed",
    });
    assert.equal(gone.status, 200, await gone.text());

    const refused = async (instanceIds: string[]) => {
      const res = await app.api("POST", "/api/admin/scheduled-actions", {
        actionType: "scheduled_restart",
        instanceIds,
        scheduledAt: at,
        skipPending: true,
      });
      assert.equal(res.status, 400);
      return await res.json();
    };
    const one = await refused([held.id]);
    assert.equal(
      one.issues[0].message,
      "Every instance chosen is held by another pending action; nothing to schedule.",
    );
    assert.equal(
      one.error,
      "every instance chosen is held by another pending action; nothing to schedule",
    );
    const both = await refused([held.id, destroyed.id]);
    assert.equal(
      both.issues[0].message,
      "Every instance chosen is destroyed or held by another pending action; nothing to schedule.",
    );
  } finally {
    await app.close();
  }
});
