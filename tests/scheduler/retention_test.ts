/**
 * The daily purge: an action that ended longer ago than the retention goes
 * with everything under it, and nothing else is touched. Actions are played
 * through the real scheduler, sweep and apply on a clock moved by hand.
 */
import assert from "node:assert/strict";
import { applyTick } from "@/lib/jobs.ts";
import { cancelAction } from "@/lib/scheduler/cancel_targets.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { putUser } from "@/lib/kv/users.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import {
  DAY_MS,
  endedAt,
  purgeEndedActions,
} from "@/lib/scheduler/retention.ts";
import { formatDateTime } from "@/lib/format.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import type { ScheduledAction } from "@/lib/types.ts";
import { createTestApp } from "../helpers/app.ts";
import { parseConfig } from "@/lib/config.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  clock,
  deps,
  faultyKv,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

/** Keys that expire on their own (and the audit, kept for its own 400 days): the purge leaves them. */
const EXPIRING = new Set([
  "cancelled_banners",
  "outbox",
  "outbox_by_notification",
  "outbox_push_by_instance",
  "outbox_idempotency",
  "side_effect_results",
  "notice_groups",
  "push_receipts",
  // Webhook events are taken by the minute delivery job (not run here), and
  // their deliveries expire 30 days after they end.
  "webhook_events",
  "webhook_deliveries",
  "webhook_deliveries_by_endpoint",
]);

/** Every entry (key and value, as text) that names any of `ids`, outside the expiring prefixes. */
async function entriesNaming(kv: Deno.Kv, ids: Set<string>) {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    if (EXPIRING.has(String(e.key[0]))) continue;
    const text = JSON.stringify(
      [e.key, e.value],
      (_, v) => typeof v === "bigint" ? String(v) : v,
    );
    for (const id of ids) {
      if (text.includes(id)) {
        out.push(text);
        break;
      }
    }
  }
  return out.sort();
}

/** The ids an action's records carry: its own, its targets' and its rows'. */
async function idsOf(kv: Deno.Kv, actionId: string): Promise<Set<string>> {
  const ids = new Set([actionId]);
  for await (const e of kv.list({ prefix: ["targets_by_action", actionId] })) {
    const targetId = e.key[2] as string;
    ids.add(targetId);
    for await (
      const r of kv.list<string>({
        prefix: ["notifications_by_target", targetId],
      })
    ) ids.add(r.value);
  }
  return ids;
}

/**
 * A world of four actions: `applied` and `cancelled` ended on day 0, `open`
 * is still scheduled (for day 364), `recent` ended on day 350. The clock
 * ends on day 401.
 */
async function world(kv: Deno.Kv) {
  await seedCatalog(kv);
  const c = clock();
  const d = recordingDispatchers();
  const owned = async (n: number, prefix: string) => {
    const list = await seedInstances(kv, n, { prefix });
    for (const i of new Set(list.map((x) => x.ownerId))) {
      await putUser(kv, i, { email: `${i}@example.test` });
    }
    return list.map((i) => i.id);
  };
  const schedule = async (ids: string[], extra: Record<string, unknown>) =>
    (await scheduleAction(deps(kv, c.now), input(ids, c.now(), extra), {
      id: "admin",
    })).id;
  const run = async () => {
    await sweep({ kv, dispatchers: d, now: c.now });
    await applyTick({ kv, controller: embeddedController(kv), now: c.now });
    await sweep({ kv, dispatchers: d, now: c.now });
  };
  const notices = {
    noticeLeadHours: 2,
    reminderLeadHours: [1],
    noticeChannels: ["email", "webapp", "mobile_push"],
    doneChannels: ["email"],
  };

  // A rollout in two waves with a gate: its stages, their counters and gate
  // go with it.
  const applied = await schedule(await owned(120, "applied"), {
    ...notices,
    scheduledAt: new Date(c.now() + 3 * HOUR).toISOString(),
    waves: [{ percent: 10, soakMinutes: 0 }, { percent: 100 }],
    gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
  });
  const cancelled = await schedule(await owned(10, "cancelled"), {
    ...notices,
    scheduledAt: new Date(c.now() + 3 * HOUR).toISOString(),
  });
  const open = await schedule(await owned(5, "open"), {
    ...notices,
    scheduledAt: new Date(c.now() + 364 * DAY_MS).toISOString(),
  });
  c.advance(HOUR + 60_000);
  await run(); // notices out
  await cancelAction({ kv, now: c.now }, cancelled);
  c.advance(HOUR);
  await run(); // reminders, cancellations out
  c.advance(HOUR);
  await run(); // applied (the first wave), done notices out
  c.advance(2 * 60_000);
  await run(); // the second wave

  c.set(c.now() + 350 * DAY_MS);
  const recent = await schedule(await owned(5, "recent"), {
    ...notices,
    scheduledAt: new Date(c.now() + 3 * HOUR).toISOString(),
  });
  for (let i = 0; i < 4; i++) {
    c.advance(HOUR);
    await run();
  }
  c.set(Date.parse("2030-01-01T00:00:00Z") + 401 * DAY_MS);
  return { c, applied, cancelled, open, recent };
}

Deno.test("an action that ended longer ago than the retention goes with everything under it; open and recent ones stay as they were", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    const statuses = await Promise.all(
      [w.applied, w.cancelled, w.open, w.recent].map(async (id) =>
        (await kv.get<{ status: string }>(["actions", id])).value!.status
      ),
    );
    assert.deepEqual(statuses, [
      "completed",
      "cancelled",
      "scheduled",
      "completed",
    ]);
    // An index key whose row is gone goes too.
    const [someTarget] = [...await idsOf(kv, w.applied)].filter((id) =>
      id !== w.applied
    );
    await kv.set(
      ["notifications_by_target", someTarget, "reminder", "email", 99],
      "a-row-that-is-gone",
    );
    const gone = new Set([
      ...await idsOf(kv, w.applied),
      ...await idsOf(kv, w.cancelled),
    ]);
    // 130 targets, and their notice, reminder and done or cancellation rows.
    assert.ok(gone.size > 130 * 4, `${gone.size} ids`);
    const kept = new Set([
      ...await idsOf(kv, w.open),
      ...await idsOf(kv, w.recent),
    ]);
    const keptBefore = await entriesNaming(kv, kept);
    assert.ok((await entriesNaming(kv, gone)).length > 130 * 4);

    const counts = await purgeEndedActions(kv, {
      now: w.c.now(),
      retentionDays: 400,
    });
    assert.equal(counts.actions, 2);
    assert.equal(counts.targets, 130);
    assert.equal(counts.kept, 0);
    // Every id but the two actions, the 130 targets and the missing row is a row.
    assert.equal(counts.rows, gone.size - 2 - 130 - 1);
    assert.deepEqual(await entriesNaming(kv, gone), [], "nothing left");
    // Its page and API say why they find nothing.
    await assert.rejects(
      getActionDetail(kv, w.applied),
      /scheduled action .* not found \(an ended action is removed once ACTION_RETENTION_DAYS have passed\)/,
    );
    assert.deepEqual(await entriesNaming(kv, kept), keptBefore);

    // A second run finds nothing more to do.
    assert.deepEqual(
      await purgeEndedActions(kv, { now: w.c.now(), retentionDays: 400 }),
      { actions: 0, targets: 0, rows: 0, kept: 0 },
    );
  } finally {
    kv.close();
  }
});

Deno.test("an old ended action with a notice still to send is kept whole, and goes once it is sent; retention 0 keeps everything", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await seedCatalog(kv);
    const c = clock();
    const d = recordingDispatchers();
    const ids = (await seedInstances(kv, 250, { prefix: "late" })).map((i) =>
      i.id
    );
    for (const owner of new Set(ids.map((_, i) => `late-owner-${i % 50}`))) {
      await putUser(kv, owner, { email: `${owner}@example.test` });
    }
    const { id } = await scheduleAction(
      deps(kv, c.now),
      input(ids, c.now(), {
        actionType: "scheduled_restart",
        noticeLeadHours: 2,
        noticeChannels: ["email"],
        scheduledAt: new Date(c.now() + 3 * HOUR).toISOString(),
      }),
      { id: "admin" },
    );
    c.advance(HOUR + 60_000);
    await sweep({ kv, dispatchers: d, now: c.now });
    // Cancelled after the notices went out; a short sweep sends the first
    // 100 cancellations, so what is still open lies on later pages.
    await cancelAction({ kv, now: c.now }, id);
    c.advance(60_000);
    await sweep({ kv, dispatchers: d, now: c.now }, {
      pageSize: 100,
      maxPages: 1,
    });
    const before = await entriesNaming(kv, await idsOf(kv, id));
    c.advance(401 * DAY_MS);

    assert.deepEqual(
      await purgeEndedActions(kv, { now: c.now(), retentionDays: 0 }),
      { actions: 0, targets: 0, rows: 0, kept: 0 },
    );
    const counts = await purgeEndedActions(kv, {
      now: c.now(),
      retentionDays: 400,
    });
    assert.deepEqual(counts, { actions: 0, targets: 0, rows: 0, kept: 1 });
    assert.deepEqual(
      await entriesNaming(kv, await idsOf(kv, id)),
      before,
      "not one of its 250 targets was touched",
    );

    await sweep({ kv, dispatchers: d, now: c.now });
    const after = await purgeEndedActions(kv, {
      now: c.now(),
      retentionDays: 400,
    });
    assert.equal(after.actions, 1);
    assert.equal(after.targets, 250);
    assert.equal(after.rows, 500, "a notice and a cancellation each");
  } finally {
    kv.close();
  }
});

Deno.test("a purge cut short is finished by the next run", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const w = await world(kv);
    const gone = new Set([
      ...await idsOf(kv, w.applied),
      ...await idsOf(kv, w.cancelled),
    ]);
    const before = (await entriesNaming(kv, gone)).length;
    // The process dies at its third commit.
    await assert.rejects(
      purgeEndedActions(faultyKv(kv, 3, true), {
        now: w.c.now(),
        retentionDays: 400,
      }),
      /injected/,
    );
    const left = await entriesNaming(kv, gone);
    assert.ok(left.length > 0 && left.length < before, "cut halfway");
    assert.ok(
      left.some((e) => e.startsWith(`[["actions","${w.applied}"]`)),
      "the action record goes last",
    );
    const counts = await purgeEndedActions(kv, {
      now: w.c.now(),
      retentionDays: 400,
    });
    assert.equal(counts.actions, 2);
    assert.deepEqual(await entriesNaming(kv, gone), []);
  } finally {
    kv.close();
  }
});

Deno.test("config: ACTION_RETENTION_DAYS is 400 by default, 0 keeps everything, and a bad value says what is wrong", () => {
  assert.equal(parseConfig({}).actionRetentionDays, 400);
  assert.equal(
    parseConfig({ ACTION_RETENTION_DAYS: "0" }).actionRetentionDays,
    0,
  );
  assert.throws(
    () => parseConfig({ ACTION_RETENTION_DAYS: "-1" }),
    /ACTION_RETENTION_DAYS: expected a whole number from 0/,
  );
});

Deno.test("an ended action's page says until when it is kept; an open one's, or with retention 0, says nothing", async () => {
  for (const days of [30, 0]) {
    const app = await createTestApp({ config: { actionRetentionDays: days } });
    try {
      await seedCatalog(app.kv);
      const c = clock(Date.now());
      const ids = (await seedInstances(app.kv, 2, { prefix: "page" })).map((
        i,
      ) => i.id);
      const schedule = async (at: number) =>
        (await scheduleAction(
          deps(app.kv, c.now),
          input(ids.slice(at ? 1 : 0, at ? 2 : 1), c.now(), {
            actionType: "scheduled_restart",
            notify: false,
            scheduledAt: new Date(c.now() + HOUR + at).toISOString(),
          }),
          { id: "admin" },
        )).id;
      const ended = await schedule(0);
      const open = await schedule(30 * DAY_MS);
      c.advance(HOUR + 60_000);
      await applyTick({
        kv: app.kv,
        controller: embeddedController(app.kv),
        now: c.now,
      });
      const action = (await app.kv.get<ScheduledAction>(["actions", ended]))
        .value!;
      assert.equal(action.status, "completed");
      const { cookie } = await app.signIn({ admin: true });
      const page = async (id: string) =>
        await (await app.request(`/admin/actions/${id}`, {
          headers: { cookie },
        })).text();
      const html = await page(ended);
      if (days) {
        const until = formatDateTime(
          new Date(endedAt(action)! + days * DAY_MS).toISOString(),
          null,
        );
        assert.match(
          html,
          new RegExp(`Kept until\\s*(<[^>]+>)*${until}(<[^>]+>)*, 30\\s+days`),
        );
      } else assert.doesNotMatch(html, /Kept until/);
      assert.doesNotMatch(await page(open), /Kept until/);
    } finally {
      await app.close();
    }
  }
});
