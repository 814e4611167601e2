/**
 * The audit: every admin change through the API and the admin pages is
 * recorded with who, how, what changed and why, listed newest first with
 * filters and paging, and shown on the action and instance pages.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { faultyKv, HOUR, seedCatalog } from "../helpers/scheduling.ts";
import { auditCancelAction } from "@/lib/scheduler/audit.ts";
import { API_TOKEN_USER } from "@/lib/request_state.ts";
import { AUDIT_RETENTION_DAYS } from "@/lib/kv/audit.ts";
import type { AuditEntry, ScheduledAction } from "@/lib/types.ts";

async function withApp(fn: (app: TestApp) => Promise<void>) {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    await fn(app);
  } finally {
    await app.close();
  }
}

async function audit(app: TestApp, query = ""): Promise<{
  items: AuditEntry[];
  cursor: string | null;
}> {
  const res = await app.api("GET", `/api/admin/audit${query}`);
  assert.equal(res.status, 200);
  return await res.json();
}

async function ok(pending: Promise<Response>, status = 200) {
  const res = await pending;
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  return body;
}

Deno.test("every admin change through the API is recorded, newest first", async () => {
  await withApp(async (app) => {
    await ok(app.api("PUT", "/api/admin/users/audit-owner", {
      email: "audit-owner@example.com",
      name: "Ada",
    }));
    await ok(app.api("PUT", "/api/admin/catalog/v9", {
      openclawVersion: "9.0.0",
    }));
    await ok(app.api("PUT", "/api/admin/catalog/v9", {
      openclawVersion: "9.0.1",
    }));
    for (const id of ["audit-a", "audit-b"]) {
      await ok(app.api("PUT", `/api/admin/instances/${id}`, {
        name: `Bot ${id}`,
        ownerId: "audit-owner",
        imageTag: "v1",
      }));
    }
    const created = await ok(
      app.api("POST", "/api/admin/scheduled-actions", {
        actionType: "scheduled_restart",
        instanceIds: ["audit-a", "audit-b"],
        scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
        reason: "kernel update",
      }),
      201,
    );
    const targets = (await ok(
      app.api("GET", `/api/admin/scheduled-actions/${created.id}`),
    )).targets.items;
    const targetA = targets.find((t: { target: { instanceId: string } }) =>
      t.target.instanceId === "audit-a"
    ).target;
    await ok(app.api(
      "POST",
      `/api/admin/scheduled-actions/${created.id}/targets/${targetA.id}/cancel`,
      { reason: "owner asked to wait" },
    ));
    await ok(app.api(
      "POST",
      `/api/admin/scheduled-actions/${created.id}/cancel`,
    ));
    await ok(app.api("DELETE", "/api/admin/users/audit-owner"));

    const { items } = await audit(app);
    assert.deepEqual(
      items.map((e) =>
        e.change
      ),
      [
        "user.delete",
        "action.cancel",
        "target.cancel",
        "action.schedule",
        "instance.put",
        "instance.put",
        "catalog.put",
        "catalog.put",
        "user.put",
      ],
    );
    for (const e of items) {
      assert.equal(e.actor.id, "api-token");
      assert.equal(e.via, "api_token");
      assert.ok(Date.parse(e.at) > 0);
    }
    const [del, cancelAll, cancelOne, schedule] = items;
    assert.deepEqual(del.subject, { type: "user", id: "audit-owner" });
    assert.deepEqual(cancelAll.details.status, ["scheduled", "cancelled"]);
    assert.equal(cancelAll.reason, undefined);
    assert.equal(cancelOne.reason, "owner asked to wait");
    assert.deepEqual(cancelOne.related, [{ type: "instance", id: "audit-a" }]);
    assert.equal(schedule.reason, "kernel update");
    assert.equal(schedule.details.targets, 2);
    assert.deepEqual(schedule.subject, { type: "action", id: created.id });
    // What changed: the catalog's second save names the version it replaced.
    assert.deepEqual(items[6].details.openclawVersion, ["9.0.0", "9.0.1"]);
    assert.deepEqual(items[7].details.openclawVersion, [null, "9.0.0"]);

    // Filters: by subject (related subjects included), change, actor.
    const ofInstance = await audit(
      app,
      "?subjectType=instance&subjectId=audit-a",
    );
    assert.deepEqual(ofInstance.items.map((e) => e.change), [
      "target.cancel",
      "instance.put",
    ]);
    const ofAction = await audit(
      app,
      `?subjectType=action&subjectId=${created.id}`,
    );
    assert.equal(ofAction.items.length, 3);
    const catalog = await audit(app, "?change=catalog.put");
    assert.equal(catalog.items.length, 2);
    const byToken = await audit(app, "?actor=api-token&change=user.put");
    assert.equal(byToken.items.length, 1);
    assert.equal((await audit(app, "?actor=someone-else")).items.length, 0);
  });
});

Deno.test("the audit is paged by cursor and refuses bad filters", async () => {
  await withApp(async (app) => {
    for (let i = 0; i < 5; i++) {
      await ok(app.api("PUT", `/api/admin/catalog/p${i}`, {
        openclawVersion: `1.0.${i}`,
      }));
    }
    const first = await audit(app, "?limit=2");
    assert.equal(first.items.length, 2);
    assert.ok(first.cursor);
    const second = await audit(app, `?limit=2&cursor=${first.cursor}`);
    const third = await audit(app, `?limit=2&cursor=${second.cursor}`);
    const subjects = [...first.items, ...second.items, ...third.items].map((
      e,
    ) => e.subject.id);
    assert.deepEqual(subjects, ["p4", "p3", "p2", "p1", "p0"]);
    assert.equal(third.cursor, null);
    // Filtered pages page the same way.
    const f1 = await audit(app, "?change=catalog.put&limit=3");
    const f2 = await audit(
      app,
      `?change=catalog.put&limit=3&cursor=${f1.cursor}`,
    );
    assert.deepEqual(
      [...f1.items, ...f2.items].map((e) => e.subject.id),
      ["p4", "p3", "p2", "p1", "p0"],
    );

    for (
      const bad of [
        "?change=nothing.much",
        "?subjectType=action",
        "?limit=0",
        "?cursor=not*a*cursor",
        "?unknown=1",
      ]
    ) {
      const res = await app.api("GET", `/api/admin/audit${bad}`);
      assert.equal(res.status, 400, bad);
      await res.body?.cancel();
    }
    assert.ok(AUDIT_RETENTION_DAYS >= 400);
  });
});

Deno.test("changes made in an admin session are recorded as the admin, and shown on the pages", async () => {
  await withApp(async (app) => {
    const admin = await app.signIn({
      admin: true,
      email: "ops-lead@example.com",
    });
    const form = new URLSearchParams({
      _csrf: admin.csrfToken,
      imageTag: "v7",
      openclawVersion: "7.0.0",
      available: "on",
    });
    const saved = await app.request("/admin/catalog", {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        origin: ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: form,
    });
    assert.equal(saved.status, 303);
    await ok(app.api("PUT", "/api/admin/users/page-owner", {
      email: "page-owner@example.com",
    }));
    await ok(app.api("PUT", "/api/admin/instances/page-bot", {
      name: "Page bot",
      ownerId: "page-owner",
      imageTag: "v1",
    }));
    const created = await ok(
      app.request("/api/admin/scheduled-actions", {
        method: "POST",
        headers: {
          cookie: admin.cookie,
          origin: ORIGIN,
          "x-csrf-token": admin.csrfToken,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          actionType: "scheduled_restart",
          instanceIds: ["page-bot"],
          scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
          reason: "monthly restart",
        }),
      }),
      201,
    );
    const { items } = await audit(app, "?actor=" + admin.user.id);
    assert.deepEqual(items.map((e) => [e.change, e.via, e.actor.email]), [
      ["action.schedule", "session", "ops-lead@example.com"],
      ["catalog.put", "session", "ops-lead@example.com"],
    ]);

    const page = async (path: string) => {
      const res = await app.request(path, {
        headers: { cookie: admin.cookie },
      });
      assert.equal(res.status, 200, path);
      return await res.text();
    };
    const actionPage = await page(`/admin/actions/${created.id}`);
    assert.match(actionPage, /<h2>Changes<\/h2>/);
    assert.match(actionPage, /data-change="action.schedule"/);
    assert.match(actionPage, /monthly restart/);
    assert.match(actionPage, /ops-lead@example.com/);
    const instancePage = await page("/admin/instances/page-bot");
    assert.match(instancePage, /data-change="instance.put"/);
    assert.match(instancePage, /the admin API token/);
    const list = await page("/admin/audit?change=catalog.put");
    assert.match(list, /data-change="catalog.put"/);
    assert.doesNotMatch(list, /data-change="action.schedule"/);
  });
});

Deno.test("an audit write that fails after the change is logged, not turned into an error for a change that happened", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const broken = faultyKv(kv, 1, true);
    const entry = await auditCancelAction(
      { kv: broken, now: Date.now },
      {
        user: API_TOKEN_USER,
        role: "admin",
        sessionId: null,
        csrfToken: null,
      },
      "scheduled",
      { id: "a-1", status: "cancelled" } as ScheduledAction,
      null,
    );
    assert.equal(entry, null);
  } finally {
    kv.close();
  }
});
