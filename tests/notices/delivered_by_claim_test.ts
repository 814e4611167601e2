/**
 * A channel delivered by the claim itself (the workspace banner): its rows go
 * from pending to sent in the claim's one commit, checked against their
 * parents like any claim, with no group and no dispatch call; and the parents
 * a page's groups read once between them never let a stale claim through.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { webappDispatcher } from "@/lib/channels/webapp.ts";
import { CANCELLED_BEFORE_DISPATCH } from "@/lib/notices/rows.ts";
import { PARENT_CHANGED } from "@/lib/notices/parents.ts";
import {
  asPendingAgain,
  asRunning,
  putTarget,
} from "@/lib/apply/target_status.ts";
import type { Target } from "@/lib/types.ts";
import {
  allDispatchedIds,
  recordingDispatchers,
} from "../helpers/dispatchers.ts";
import type { ChannelDispatcher } from "@/lib/channels/types.ts";
import {
  cancelTargetAt,
  countKeys,
  getRows,
  HOUR,
  interceptCommits,
  MINUTE,
  seedAction,
} from "../helpers/notice_fixtures.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

/** The product's banner channel, except that a call to `dispatch` fails the test. */
const bannerNeverCalled: ChannelDispatcher = {
  ...webappDispatcher,
  dispatch() {
    throw new Error("a channel delivered by its claim was dispatched");
  },
};

/** Writes one target through the product's own writer; its rows stay as they are. */
async function moveTarget(
  kv: Deno.Kv,
  targetId: string,
  to: (t: Target) => Target,
): Promise<void> {
  const entry = await kv.get<Target>(keys.target(targetId));
  const res = await putTarget(
    kv.atomic().check(entry),
    entry.value,
    to(entry.value!),
  ).commit();
  assert.ok(res.ok);
}

/**
 * Recording dispatchers whose first group to answer runs `meanwhile` while
 * its send is on its way; `order` lists the channels as their groups answer.
 */
function firstSendMeanwhile(meanwhile: () => Promise<void>) {
  const d = recordingDispatchers();
  const order: string[] = [];
  for (const ch of ["email", "mobile_push", "webapp"] as const) {
    d[ch].beforeAnswer = async () => {
      order.push(ch);
      if (order.length === 1) await meanwhile();
    };
  }
  return { d, order };
}

/** Four owners whose notices (every channel) are all due at T0. */
const FOUR_DUE = {
  now: T0,
  instances: 4,
  scheduledAt: T0 + 2 * HOUR,
  leadHours: 3,
};

Deno.test("banner rows go from pending to sent in the claim's commit: no group, no dispatch, one attempt", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      instances: 30,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      channels: ["webapp"],
    });
    assert.equal(webappDispatcher.deliveredByClaim?.detail, "banner");
    let groupWrites = 0;
    const watched = interceptCommits(
      kv,
      (key) => key[0] === keys.noticeGroup("x")[0],
      { before: () => Promise.resolve(void groupWrites++) },
    );
    const d = { ...recordingDispatchers(), webapp: bannerNeverCalled };
    const run = await sweep({ kv: watched.kv, dispatchers: d, now: () => T0 });
    assert.equal(run.sent, 30);
    assert.equal(run.processed, 30);
    assert.equal(run.errors, 0);
    assert.equal(groupWrites, 0, "no dispatch group was written");
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      assert.equal(r.status, "sent");
      assert.equal(r.detail, "banner");
      assert.equal(r.attempts, 1);
      assert.equal(r.groupId, null);
      assert.equal(r.claimId, null);
      assert.equal(r.sentAt, new Date(T0).toISOString());
      assert.equal(r.claimedAt, new Date(T0).toISOString());
    }
    assert.equal(await countKeys(kv, keys.notificationsDue()), 0);
    // Nothing left to do: a second sweep sends nothing again.
    const again = await sweep({ kv, dispatchers: d, now: () => T0 + MINUTE });
    assert.equal(again.processed, 0);
  }));

Deno.test("a banner row whose target is cancelled between the judging and the commit is not sent", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, {
      now: T0,
      instances: 3,
      scheduledAt: T0 + 30 * MINUTE,
      leadHours: 1,
      channels: ["webapp"],
    });
    const victim = seeded.targets[1];
    // The claim's commit waits while the admin cancels one target.
    const racing = interceptCommits(
      kv,
      (key, value) =>
        key[0] === keys.notification("x")[0] &&
        (value as { status?: string })?.status === "sent",
      {
        times: 1,
        before: () => cancelTargetAt(kv, seeded, victim.id, T0),
      },
    );
    const d = { ...recordingDispatchers(), webapp: bannerNeverCalled };
    const run = await sweep({ kv: racing.kv, dispatchers: d, now: () => T0 });
    assert.equal(racing.hits(), 1);
    assert.ok(run.claimsLost >= 1, "the commit saw the cancel and failed");
    const rows = await getRows(kv, seeded.rows.map((r) => r.id));
    for (const r of rows) {
      if (r.targetId === victim.id) {
        assert.equal(r.status, "failed");
        assert.equal(r.error, CANCELLED_BEFORE_DISPATCH);
      } else assert.equal(r.status, "sent");
    }
  }));

Deno.test("groups of one page share their parents' reads, yet a target the apply took while an earlier group was sending is never claimed from the old read", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, FOUR_DUE);
    const victim = seeded.targets[2];
    // While the first group's send is on its way, the apply takes one target
    // (its rows untouched: only the target record moves).
    const { d, order } = firstSendMeanwhile(() =>
      moveTarget(kv, victim.id, (t) => asRunning(t, T0))
    );
    // One group at a time: the later groups judge with what the first read.
    const run = await sweep({ kv, dispatchers: d, now: () => T0 }, {
      concurrency: 1,
    });
    assert.equal(order.length, 3, `three groups went out: ${order}`);
    assert.ok(run.claimsLost >= 1, "a later group's claim met the change");
    const first = order[0];
    const handed = new Set(allDispatchedIds(d));
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      if (r.targetId !== victim.id || r.channel === first) {
        assert.equal(r.status, "sent", `${r.channel} row`);
        continue;
      }
      assert.ok(
        !handed.has(r.id),
        `${r.channel} row of the taken target went out`,
      );
      assert.equal(r.status, "failed", `${r.channel} row of the taken target`);
      assert.equal(r.error, PARENT_CHANGED);
    }
  }));

Deno.test("a row is finalized only from a fresh read: a target back to pending after the page's shared read saw it taken still gets its notices", () =>
  withKv(async (kv) => {
    const seeded = await seedAction(kv, FOUR_DUE);
    const victim = seeded.targets[1];
    // Taken when the page is read; handed back while the first group sends.
    await moveTarget(kv, victim.id, (t) => asRunning(t, T0));
    const { d, order } = firstSendMeanwhile(() =>
      moveTarget(
        kv,
        victim.id,
        (t) => asPendingAgain(t, "controller busy", T0),
      )
    );
    await sweep({ kv, dispatchers: d, now: () => T0 }, { concurrency: 1 });
    assert.equal(order.length, 3, `three groups went out: ${order}`);
    for (const r of await getRows(kv, seeded.rows.map((r) => r.id))) {
      if (r.targetId !== victim.id) {
        assert.equal(r.status, "sent", `${r.channel} row`);
      } else if (r.channel === order[0]) {
        // Judged while the target was taken: finalized, from a fresh read.
        assert.equal(r.status, "failed", `${r.channel} row, judged first`);
        assert.equal(r.error, PARENT_CHANGED);
      } else {
        assert.equal(r.status, "sent", `${r.channel} row, judged after`);
      }
    }
  }));
