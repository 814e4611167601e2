/**
 * DESIGN rule 5: an email batch's membership is fixed at claim time
 * and every retry of it carries the same idempotency key. Members of one
 * batch can have different attempt counts (a recovered row claimed with fresh
 * ones), so after a transient failure their backoffs differ; the retry must
 * still go out whole under the batch's key, never split under a new key.
 */
import assert from "node:assert/strict";

import { sweep } from "@/lib/notices/sweep.ts";

import { keys } from "@/lib/kv/keys.ts";
import type { Notification } from "@/lib/types.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { clock, HOUR, scheduleForOwners } from "../helpers/scheduling.ts";

Deno.test("a retried email batch whose members back off differently still goes out whole under its key", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const start = clock().now();
    const { c } = await scheduleForOwners(kv, 2, {
      scheduledAt: new Date(start + 2 * HOUR).toISOString(),
      noticeLeadHours: 1,
      noticeChannels: ["email"],
    });
    c.advance(HOUR);
    // One row comes back from an earlier, unfinished dispatch (recovery keeps its attempts).
    const rows: Deno.KvEntry<Notification>[] = [];
    for await (
      const e of kv.list<Notification>({ prefix: keys.notifications() })
    ) rows.push(e);
    assert.equal(rows.length, 2);
    const b = rows[1];
    await kv.set(b.key, { ...b.value, attempts: 1 });

    const d = recordingDispatchers();
    let calls = 0;
    d.email.behaviour = () =>
      calls === 1
        ? { status: "retry", error: "Resend 503: timed out" }
        : { status: "sent" };
    d.email.beforeAnswer = () => {
      calls++;
      return Promise.resolve();
    };
    const first = await sweep({ kv, dispatchers: d, now: c.now });
    assert.equal(first.retried, 2);
    // Past the first member's backoff (≤ 30 s), before the second's (≥ 30 s).
    for (let i = 0; i < 4; i++) {
      c.advance(30_001);
      await sweep({ kv, dispatchers: d, now: c.now });
    }
    const keysOf = new Map<string, Set<string>>();
    for (const call of d.email.calls) {
      for (const id of call.ids) {
        keysOf.set(id, (keysOf.get(id) ?? new Set()).add(call.groupId));
      }
    }
    for (const [id, groupIds] of keysOf) {
      assert.equal(
        groupIds.size,
        1,
        `row ${id} was sent under ${groupIds.size} idempotency keys`,
      );
    }
    for (const r of rows) {
      const now = (await kv.get<Notification>(r.key)).value!;
      assert.equal(now.status, "sent");
    }
  } finally {
    kv.close();
  }
});
