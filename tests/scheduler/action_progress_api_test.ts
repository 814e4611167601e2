/**
 * What the action page reads, through the API: cancelled instances are
 * counted on their own (neither skipped nor done), the notices are counted
 * per kind and channel (cancellations too), a push that reached no device is
 * "not delivered", and the instances page with `?cursor=` (`?targets=` still
 * works).
 */
import assert from "node:assert/strict";
import { fleet } from "../helpers/e2e.ts";

const HOUR = 3_600_000;

Deno.test("progress API: cancelling every instance counts them as cancelled, not skipped or done", async () => {
  const f = await fleet();
  try {
    const ids = [
      f.ids["Maya's support bot"],
      f.ids["Maya's research assistant"],
      f.ids["Tom's sales bot"],
    ];
    const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ids,
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeLeadHours: 3,
      noticeChannels: ["email", "mobile_push"],
    });
    assert.equal(res.status, 201);
    const { id } = await res.json();
    assert.equal(
      (await f.app.api("POST", "/api/admin/notices/sweep")).status,
      200,
    );
    const progress = async (query = "") => {
      const r = await f.app.api(
        "GET",
        `/api/admin/scheduled-actions/${id}/progress${query}`,
      );
      assert.equal(r.status, 200);
      return await r.json();
    };
    const before = await progress();
    // Maya has no phone: her two pushes reached nobody; Tom's reached his.
    assert.deepEqual(
      before.notices.channels.map((
        c: Record<string, unknown>,
      ) => [c.kind, c.channel, c.sent, c.notDelivered, c.pending, c.failed]),
      [
        ["notice", "email", 3, 0, 0, 0],
        ["notice", "mobile_push", 1, 2, 0, 0],
      ],
    );

    for (const t of before.targets) {
      const one = await f.app.api(
        "POST",
        `/api/admin/scheduled-actions/${id}/targets/${t.id}/cancel`,
      );
      assert.equal(one.status, 200);
    }
    const after = await progress();
    assert.deepEqual(after.counters, {
      total: 3,
      applied: 0,
      skipped: 0,
      failed: 0,
      cancelled: 3,
    });
    // The domain's own counters (GET /:id) still hold every skip.
    const detail = await (await f.app.api(
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    )).json();
    assert.equal(detail.counters.skipped, 3);

    // Each channel that warned an owner gets a cancellation: one per instance.
    assert.deepEqual(
      after.notices.channels.filter((c: { kind: string }) =>
        c.kind === "cancelled"
      ).map((c: Record<string, unknown>) => [c.channel, c.pending]),
      [["email", 3], ["mobile_push", 3]],
    );
    await f.app.api("POST", "/api/admin/notices/sweep");
    const sent = await progress();
    assert.deepEqual(
      sent.notices.channels.filter((c: { kind: string }) =>
        c.kind === "cancelled"
      ).map((
        c: Record<string, unknown>,
      ) => [c.channel, c.sent, c.notDelivered]),
      [["email", 3, 0], ["mobile_push", 1, 2]],
    );
    // Called off one by one before its time, the action itself is cancelled.
    assert.equal(sent.action.status, "cancelled");
  } finally {
    await f.app.close();
  }
});

Deno.test("progress API: instances are paged with ?cursor= (and the older ?targets=)", async () => {
  const f = await fleet();
  try {
    const ids = [
      f.ids["Maya's support bot"],
      f.ids["Maya's research assistant"],
      f.ids["Tom's sales bot"],
    ];
    const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ids,
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
    });
    const { id } = await res.json();
    // The page reads 50 at a time: make a cursor by reading the detail in twos.
    const detail = await (await f.app.api(
      "GET",
      `/api/admin/scheduled-actions/${id}?targetLimit=2`,
    )).json();
    const cursor = detail.targets.cursor;
    assert.ok(cursor);
    for (const name of ["cursor", "targets"]) {
      const page = await (await f.app.api(
        "GET",
        `/api/admin/scheduled-actions/${id}/progress?${name}=${
          encodeURIComponent(cursor)
        }`,
      )).json();
      assert.equal(page.targets.length, 1, `?${name}= gives the rest`);
      assert.ok(
        !detail.targets.items.some((t: { target: { id: string } }) =>
          t.target.id === page.targets[0].id
        ),
        `?${name}= starts after the first page`,
      );
    }
    const bad = await f.app.api(
      "GET",
      `/api/admin/scheduled-actions/${id}/progress?cursor=not%20a%20cursor`,
    );
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.match(body.error, /cursor/);
    assert.equal(body.issues[0].path, "cursor");
  } finally {
    await f.app.close();
  }
});

Deno.test("instance page: its history names channels and kinds in words, never mobile_push or webapp", async () => {
  const f = await fleet();
  try {
    const instanceId = f.ids["Tom's sales bot"];
    const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [instanceId],
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeLeadHours: 3,
      noticeChannels: ["email", "webapp", "mobile_push"],
    });
    assert.equal(res.status, 201);
    await f.app.api("POST", "/api/admin/notices/sweep");
    const html = await (await f.app.request(`/admin/instances/${instanceId}`, {
      headers: { cookie: f.admin.cookie },
    })).text();
    const history = [
      ...html.matchAll(/<li[^>]*data-kind="[^"]*"[^>]*>(.*?)<\/li>/gs),
    ]
      .map((m) => m[1].replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim());
    assert.deepEqual(history, [
      "Notice · Email sent",
      "Notice · Push sent",
      "Notice · Banner sent",
    ]);
    assert.doesNotMatch(html, />[^<]*\b(mobile_push|webapp)\b[^<]*</);
  } finally {
    await f.app.close();
  }
});
