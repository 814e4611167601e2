import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import {
  HOUR,
  rid,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

async function withApp(fn: (app: TestApp) => Promise<void>) {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    await fn(app);
  } finally {
    await app.close();
  }
}

function scheduleBody(ids: string[], extra: Record<string, unknown> = {}) {
  return {
    actionType: "version_change",
    imageTag: "v2",
    instanceIds: ids,
    scheduledAt: new Date(Date.now() + HOUR).toISOString(),
    ...extra,
  };
}

async function json(res: Response) {
  return { status: res.status, body: await res.json() };
}

Deno.test("API: schedule, read, cancel one target, cancel all (twice)", async () => {
  await withApp(async (app) => {
    const inst = await seedInstances(app.kv, 3);
    const ids = inst.map((i) => i.id);
    const created = await json(
      await app.api("POST", "/api/admin/scheduled-actions", scheduleBody(ids)),
    );
    assert.equal(created.status, 201);
    assert.equal(created.body.targets.total, 3);
    assert.equal(created.body.action.createdBy, "api-token");
    const id = created.body.id;

    const list = await json(
      await app.api("GET", "/api/admin/scheduled-actions?limit=5"),
    );
    assert.equal(list.body.items[0].action.id, id);
    const detail = await json(
      await app.api("GET", `/api/admin/scheduled-actions/${id}?targetLimit=2`),
    );
    assert.equal(detail.body.targets.items.length, 2);
    assert.ok(detail.body.targets.cursor);
    const rest = await json(
      await app.api(
        "GET",
        `/api/admin/scheduled-actions/${id}?targetLimit=2&targetCursor=${detail.body.targets.cursor}`,
      ),
    );
    assert.equal(rest.body.targets.items.length, 1);
    assert.equal(rest.body.targets.items[0].notifications.length, 3);

    const inDetail = await json(
      await app.api("GET", `/api/admin/instances/${ids[0]}`),
    );
    assert.equal(inDetail.body.pendingAction.action.id, id);

    const targetId = detail.body.targets.items[0].target.id;
    const one = await json(
      await app.api(
        "POST",
        `/api/admin/scheduled-actions/${id}/targets/${targetId}/cancel`,
      ),
    );
    assert.equal(one.status, 200);
    assert.equal(one.body.target.skipReason, "cancelled");

    const all = await json(
      await app.api("POST", `/api/admin/scheduled-actions/${id}/cancel`),
    );
    const again = await json(
      await app.api("POST", `/api/admin/scheduled-actions/${id}/cancel`),
    );
    assert.equal(all.status, 200);
    assert.deepEqual(again, all);
    assert.equal(all.body.counters.skipped, 3);

    const missing = await json(
      await app.api("POST", `/api/admin/scheduled-actions/nope/cancel`),
    );
    assert.equal(missing.status, 404);
  });
});

Deno.test("API: request errors answer 400/409 with {error, issues}", async (t) => {
  await withApp(async (app) => {
    const inst = await seedInstances(app.kv, 2);
    const ids = inst.map((i) => i.id);
    const post = (init: RequestInit) =>
      app.request("/api/admin/scheduled-actions", {
        method: "POST",
        ...init,
        headers: { authorization: `Bearer ${app.adminToken}`, ...init.headers },
      });
    await t.step("bad JSON", async () => {
      const r = await json(
        await post({
          body: "{nope",
          headers: { "content-type": "application/json" },
        }),
      );
      assert.equal(r.status, 400);
      assert.match(r.body.error, /not valid JSON/);
    });
    await t.step("wrong content type", async () => {
      const r = await json(
        await post({
          body: JSON.stringify(scheduleBody(ids)),
          headers: { "content-type": "text/plain" },
        }),
      );
      assert.equal(r.status, 415);
      assert.match(r.body.error, /Content-Type: application\/json/);
    });
    await t.step("10,001 ids", async () => {
      const r = await json(
        await app.api(
          "POST",
          "/api/admin/scheduled-actions",
          scheduleBody(Array.from({ length: 10_001 }, (_, i) => `x${i}`)),
        ),
      );
      assert.equal(r.status, 400);
      assert.equal(r.body.issues[0].path, "instanceIds");
    });
    await t.step("unknown instance", async () => {
      const r = await json(
        await app.api(
          "POST",
          "/api/admin/scheduled-actions",
          scheduleBody([ids[0], "ghost"]),
        ),
      );
      assert.equal(r.status, 400);
      assert.match(r.body.error, /ghost/);
    });
    await t.step(
      "two concurrent schedules of one instance: one 201, one 409",
      async () => {
        const [a, b] = await Promise.all([
          app.api(
            "POST",
            "/api/admin/scheduled-actions",
            scheduleBody([ids[1]]),
          ),
          app.api(
            "POST",
            "/api/admin/scheduled-actions",
            scheduleBody([ids[1]]),
          ),
        ]);
        assert.deepEqual([a.status, b.status].sort(), [201, 409]);
        const loser = await (a.status === 409 ? a : b).json();
        assert.match(loser.error, new RegExp(ids[1]));
        await (a.status === 409 ? b : a).body?.cancel();
      },
    );
    await t.step("no token", async () => {
      const r = await app.request("/api/admin/scheduled-actions");
      assert.equal(r.status, 401);
      await r.body?.cancel();
    });
  });
});

Deno.test("API: admin data endpoints validate and store users, catalog entries and instances", async () => {
  await withApp(async (app) => {
    const uid = rid("user");
    const user = await json(
      await app.api("PUT", `/api/admin/users/${uid}`, {
        email: `${uid}@Example.com`,
        timeZone: "Europe/Berlin",
      }),
    );
    assert.equal(user.status, 200);
    assert.equal(user.body.email, `${uid}@example.com`);
    const badZone = await json(
      await app.api("PUT", `/api/admin/users/${uid}`, {
        email: `${uid}@example.com`,
        timeZone: "Mars/Olympus",
      }),
    );
    assert.equal(badZone.status, 400);
    assert.equal(badZone.body.issues[0].path, "timeZone");

    const tag = await json(
      await app.api("PUT", "/api/admin/catalog/v7.1", {
        openclawVersion: "7.1.0",
      }),
    );
    assert.equal(tag.body.available, true);
    const badTag = await app.api("PUT", "/api/admin/catalog/-x", {
      openclawVersion: "1",
    });
    assert.equal(badTag.status, 400);
    await badTag.body?.cancel();

    const iid = rid("inst");
    const inst = await json(
      await app.api("PUT", `/api/admin/instances/${iid}`, {
        name: "bot",
        ownerId: uid,
        imageTag: "v7.1",
      }),
    );
    assert.equal(inst.body.status, "running");
    const got = await json(await app.api("GET", `/api/admin/instances/${iid}`));
    assert.equal(got.body.instance.imageTag, "v7.1");
    assert.equal(got.body.pendingAction, null);
    const badInst = await json(
      await app.api("PUT", `/api/admin/instances/${iid}`, {
        name: "",
        ownerId: uid,
        imageTag: "v1",
        status: "paused",
      }),
    );
    assert.equal(badInst.status, 400);
    assert.deepEqual(
      badInst.body.issues.map((i: { path: string }) => i.path).sort(),
      ["name", "status"],
    );

    const strayOwner = await json(
      await app.api("PUT", `/api/admin/instances/${rid("inst")}`, {
        name: "bot",
        ownerId: "no-such-user",
        imageTag: "v7.1",
      }),
    );
    assert.equal(strayOwner.status, 422);
    assert.equal(
      strayOwner.body.error,
      "owner no-such-user is not a known user",
    );

    const del = await app.api("DELETE", `/api/admin/users/${uid}`);
    assert.equal(del.status, 200);
    await del.body?.cancel();
    // The orphaned instance can still be edited as long as its owner stays the same.
    const renamed = await json(
      await app.api("PUT", `/api/admin/instances/${iid}`, {
        name: "renamed bot",
        ownerId: uid,
        imageTag: "v7.1",
      }),
    );
    assert.equal(renamed.status, 200);
    const again = await app.api("DELETE", `/api/admin/users/${uid}`);
    assert.equal(again.status, 404);
    await again.body?.cancel();
  });
});
