/**
 * A notice whose attempt ended with no clear answer (a timeout, a crash, a
 * server error) may have reached the user. If the action is then
 * cancelled, the user must hear of the cancellation too.
 */
import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { cancelAction, cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { sweep } from "@/lib/notices/sweep.ts";

import { readTargetRows } from "@/lib/notices/rows.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  clock,
  deps,
  input,
  scheduleForOwners,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

async function setup() {
  const kv = await Deno.openKv(":memory:");
  const { c, actionId } = await scheduleForOwners(kv, 1, {
    noticeLeadHours: 2,
    noticeChannels: ["email", "mobile_push"],
  });
  const d = recordingDispatchers();
  // The email dispatch never answers and is cut off: it may or may not have
  // been delivered. The push goes out.
  d.email.behaviour = () => "hang";
  d.mobile_push.behaviour = () => ({ status: "sent" });
  await sweep({ kv, dispatchers: d, now: c.now }, { dispatchTimeoutMs: 50 });
  const detail = await getActionDetail(kv, actionId);
  const targetId = detail.targets.items[0].target.id;
  const rows = (await readTargetRows(kv, targetId)).map((e) => e.value);
  const email = rows.find((r) => r.channel === "email")!;
  assert.equal(email.status, "pending");
  assert.equal(email.attempts, 1);
  assert.equal(email.deliveryUncertain, true);
  return { kv, c, d, actionId, targetId };
}

for (const how of ["whole action", "one target"] as const) {
  Deno.test(`cancel (${how}) after an uncertain email attempt queues the email cancellation too`, async () => {
    const { kv, c, d, actionId, targetId } = await setup();
    try {
      if (how === "whole action") await cancelAction(deps(kv, c.now), actionId);
      else await cancelTarget(deps(kv, c.now), actionId, targetId);
      const rows = (await readTargetRows(kv, targetId)).map((e) => e.value);
      const notice = rows.find((r) =>
        r.kind === "notice" && r.channel === "email"
      )!;
      assert.equal(notice.status, "failed");
      assert.match(notice.error!, /outcome is unknown; a cancellation follows/);
      const follow = rows.filter((r) => r.kind === "cancelled").map((r) =>
        r.channel
      ).sort();
      assert.deepEqual(follow, ["email", "mobile_push"]);

      d.email.behaviour = () => ({ status: "sent" });
      const r = await sweep({ kv, dispatchers: d, now: c.now });
      assert.equal(r.sent, 2);
      assert.equal(
        d.email.items.filter((i) => i.notification.kind === "cancelled").length,
        1,
      );
    } finally {
      kv.close();
    }
  });
}

Deno.test("cancel before any attempt fails the notice with no follow-up", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedCatalog(kv);
    const c = clock();
    const [instance] = await seedInstances(kv, 1);
    const res = await scheduleAction(
      deps(kv, c.now),
      input([instance.id], c.now(), { noticeLeadHours: 1 }),
      {
        id: "admin",
      },
    );
    await cancelAction(deps(kv, c.now), res.id);
    const detail = await getActionDetail(kv, res.id);
    const rows = detail.targets.items[0].notifications;
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.kind === "notice" && r.status === "failed"));
    assert.ok(
      rows.every((r) =>
        r.error === "action cancelled before notice was dispatched"
      ),
    );
  } finally {
    kv.close();
  }
});

Deno.test("a retry the provider refused outright (429) is known undelivered: cancel sends no follow-up", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { c, actionId } = await scheduleForOwners(kv, 1, {
      noticeLeadHours: 2,
      noticeChannels: ["email"],
    });
    const d = recordingDispatchers();
    d.email.behaviour = () => ({
      status: "retry",
      error: "Resend 429 rate_limit_exceeded",
      retryAfterMs: 1000,
    });
    await sweep({ kv, dispatchers: d, now: c.now });
    await cancelAction(deps(kv, c.now), actionId);
    const rows =
      (await getActionDetail(kv, actionId)).targets.items[0].notifications;
    assert.deepEqual(rows.map((r) => [r.kind, r.status, r.error]), [
      ["notice", "failed", "action cancelled before notice was dispatched"],
    ]);
  } finally {
    kv.close();
  }
});
