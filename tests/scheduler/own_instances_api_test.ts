/**
 * `GET /api/instances`: the signed-in owner's own instances, each with what
 * its banner says, in one answer (what the list on `/` refreshes from).
 */
import assert from "node:assert/strict";
import { fleet } from "../helpers/e2e.ts";

Deno.test("API: an owner's instances with their banner status, their own only", async () => {
  const f = await fleet();
  try {
    const mine = async (cookie: string, query = "") => {
      const res = await f.app.request(`/api/instances${query}`, {
        headers: { cookie },
      });
      return { status: res.status, body: await res.json() };
    };
    const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "version_change",
      imageTag: "2026.11.2",
      instanceIds: [f.ids["Maya's support bot"]],
      scheduledAt: new Date(Date.now() + 2 * 3_600_000).toISOString(),
      noticeLeadHours: 3,
      noticeChannels: ["webapp"],
    });
    assert.equal(res.status, 201);
    await f.app.api("POST", "/api/admin/notices/sweep");

    const maya = await mine(f.maya.cookie);
    assert.equal(maya.status, 200);
    const byName = Object.fromEntries(
      maya.body.items.map((i: { name: string }) => [i.name, i]),
    );
    assert.deepEqual(Object.keys(byName).sort(), [
      "Maya's research assistant",
      "Maya's support bot",
    ]);
    assert.equal(
      byName["Maya's support bot"].scheduledAction.targetOpenclawVersion,
      "1.9.0",
    );
    assert.equal(byName["Maya's support bot"].openclawVersion, "1.8.2");
    assert.equal(byName["Maya's research assistant"].scheduledAction, null);
    assert.deepEqual([maya.body.page, maya.body.pages], [1, 1]);

    // Tom sees his own, never Maya's.
    const tom = await mine(f.tom.cookie);
    assert.ok(
      tom.body.items.every((i: { name: string }) => i.name.startsWith("Tom")),
    );
    const bad = await mine(f.maya.cookie, "?page=zero");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.issues[0].path, "page");
  } finally {
    await f.app.close();
  }
});
