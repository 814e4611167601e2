/**
 * Finding actions through `GET /api/admin/scheduled-actions`: `status`
 * (repeatable), `type`, `q` (reason, tag, OpenClaw version, subject, id),
 * `from`/`to` (the day it is scheduled for); a bad value is a 400 naming it.
 */
import assert from "node:assert/strict";
import { fleet, NEW_TAG } from "../helpers/e2e.ts";

const DAY = 86_400_000;

Deno.test("API: the actions list filters by status, type, words and day", async () => {
  const f = await fleet();
  try {
    const schedule = async (body: Record<string, unknown>) => {
      const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
        scheduledAt: new Date(Date.now() + 2 * DAY).toISOString(),
        ...body,
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()).id as string;
    };
    const upgrade = await schedule({
      actionType: "version_change",
      imageTag: NEW_TAG,
      instanceIds: [f.ids["Maya's support bot"]],
      reason: "Security fix for the gateway",
    });
    const restart = await schedule({
      actionType: "scheduled_restart",
      instanceIds: [f.ids["Tom's sales bot"]],
      reason: "Memory leak",
      scheduledAt: new Date(Date.now() + 5 * DAY).toISOString(),
    });
    const called = await schedule({
      actionType: "scheduled_restart",
      instanceIds: [f.ids["Maya's research assistant"]],
      reason: "Kernel update",
    });
    await f.app.api("POST", `/api/admin/scheduled-actions/${called}/cancel`);

    const ids = async (query: string) => {
      const res = await f.app.api(
        "GET",
        `/api/admin/scheduled-actions?${query}`,
      );
      assert.equal(res.status, 200, `${query}: ${await res.clone().text()}`);
      return (await res.json()).items.map((i: { action: { id: string } }) =>
        i.action.id
      );
    };
    assert.deepEqual(await ids(""), [called, restart, upgrade]);
    assert.deepEqual(await ids("status=cancelled"), [called]);
    assert.deepEqual(await ids("status=scheduled"), [restart, upgrade]);
    assert.deepEqual(await ids("status=scheduled&status=cancelled"), [
      called,
      restart,
      upgrade,
    ]);
    assert.deepEqual(await ids("type=version_change"), [upgrade]);
    assert.deepEqual(await ids("type=scheduled_restart&status=scheduled"), [
      restart,
    ]);
    // Words: the reason, the OpenClaw version, the tag, the id; every word must match.
    assert.deepEqual(await ids("q=memory"), [restart]);
    assert.deepEqual(await ids("q=openclaw+1.9.0"), [upgrade]);
    assert.deepEqual(await ids(`q=${NEW_TAG}`), [upgrade]);
    assert.deepEqual(await ids(`q=${called.slice(-12)}`), [called]);
    assert.deepEqual(await ids("q=memory+gateway"), []);
    // The day it is scheduled for (UTC), both ends included.
    const day = (ms: number) =>
      new Date(Date.now() + ms).toISOString().slice(0, 10);
    assert.deepEqual(await ids(`from=${day(4 * DAY)}`), [restart]);
    assert.deepEqual(await ids(`to=${day(3 * DAY)}`), [called, upgrade]);
    assert.deepEqual(
      await ids(`from=${day(5 * DAY)}&to=${day(5 * DAY)}`),
      [restart],
    );
    // Titled by the version people know, the tag beside it.
    const list = await (await f.app.api(
      "GET",
      "/api/admin/scheduled-actions?type=version_change",
    )).json();
    assert.equal(list.items[0].label, "Version change to OpenClaw 1.9.0");
    assert.deepEqual(list.items[0].progress, {
      total: 1,
      applied: 0,
      skipped: 0,
      failed: 0,
      cancelled: 0,
    });

    // Paging keeps the filters: one at a time, the cursor goes on.
    const first = await (await f.app.api(
      "GET",
      "/api/admin/scheduled-actions?status=scheduled&limit=1",
    )).json();
    assert.deepEqual(
      first.items.map((i: { action: { id: string } }) => i.action.id),
      [restart],
    );
    assert.deepEqual(
      await ids(
        `status=scheduled&limit=1&cursor=${encodeURIComponent(first.cursor)}`,
      ),
      [upgrade],
    );
  } finally {
    await f.app.close();
  }
});

Deno.test("API: a bad filter is a 400 naming it", async () => {
  const f = await fleet();
  try {
    for (
      const [query, path] of [
        ["status=done", "status"],
        ["status=scheduled&status=nope", "status"],
        ["type=upgrade", "type"],
        ["from=2026-13-01", "from"],
        ["from=yesterday", "from"],
        ["from=2026-12-10&to=2026-12-01", "to"],
        ["limit=0", "limit"],
        ["q=" + "x".repeat(201), "q"],
        ["cursor=%%%", "cursor"],
        ["sort=new", "sort"],
      ]
    ) {
      const res = await f.app.api(
        "GET",
        `/api/admin/scheduled-actions?${query}`,
      );
      assert.equal(res.status, 400, query);
      const body = await res.json();
      assert.equal(typeof body.error, "string", query);
      assert.ok(
        body.issues.some((i: { path: string }) => i.path.startsWith(path)),
        `${query}: ${JSON.stringify(body)}`,
      );
    }
  } finally {
    await f.app.close();
  }
});
