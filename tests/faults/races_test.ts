/**
 * Races against the sweep, in one process on the real clock, with email
 * through the real Resend SDK to a local stand-in: three sweepers at once,
 * the apply coming round while notices are in flight, a cancel landing
 * mid-sweep, and the provider down for a stretch.
 */
import { parseDueKey } from "@/lib/notices/due_index.ts";
import assert from "node:assert/strict";
import { type ResendFake, startResendFake } from "../fakes/resend_server.ts";
import { testConfig } from "@/lib/config.ts";
import { createDispatchers } from "@/lib/channels/mod.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "@/lib/channels/resend.ts";
import { RateBudget } from "@/lib/channels/rate_budget.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import type { SweepOptions } from "@/lib/notices/sweep_deps.ts";
import { applyTick } from "@/lib/jobs.ts";
import { cancelAction } from "@/lib/scheduler/cancel_targets.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { MAX_ATTEMPTS } from "@/lib/notices/mark.ts";
import { keys } from "@/lib/kv/keys.ts";
import type { Dispatchers } from "@/lib/channels/types.ts";
import type { Instance, Notification, User } from "@/lib/types.ts";
import { recipientsOf, scheduleOwners } from "./_harness.ts";
import { withKv } from "../helpers/kv.ts";

function emailDispatchers(
  kv: Deno.Kv,
  fake: ResendFake,
  now: () => number = Date.now,
): Dispatchers {
  const config = testConfig({
    resendApiKey: fake.apiKey,
    resendBaseUrl: fake.url,
  });
  const email = new RateLimitedEmailSender(
    new ResendEmailSender(fake.apiKey, config.emailFrom, fake.url),
    new RateBudget(10_000),
  );
  const d = createDispatchers({ config, kv, email, now });
  // Small groups: many provider calls, so the races have room to happen.
  return { ...d, email: { ...d.email, maxGroupSize: 20 } };
}

/** Sweeps until nothing is due or held (bounded). */
async function drain(
  kv: Deno.Kv,
  dispatchers: Dispatchers,
  opts: SweepOptions = {},
  now: () => number = Date.now,
  rounds = 200,
) {
  for (let i = 0; i < rounds; i++) {
    await sweep({ kv, dispatchers, now }, opts);
    let busy = false;
    for (const prefix of [keys.notificationsDue(), keys.noticeGroupLeases()]) {
      for await (const e of kv.list({ prefix }, { limit: 1 })) {
        busy ||= prefix === keys.noticeGroupLeases() ||
          parseDueKey(e.key).dueAt <= now();
      }
    }
    if (!busy) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the sweep did not settle");
}

async function allRows(kv: Deno.Kv): Promise<Notification[]> {
  const rows: Notification[] = [];
  for await (
    const e of kv.list<Notification>({ prefix: keys.notifications() })
  ) {
    rows.push(e.value);
  }
  return rows;
}

/** Every recipient was carried under one idempotency key, and delivered at most once. */
function assertOnceUnderOneKey(fake: ResendFake) {
  const keysOf = new Map<string, Set<string>>();
  for (const r of fake.requests) {
    for (const to of recipientsOf(r.body)) {
      keysOf.set(to, (keysOf.get(to) ?? new Set()).add(r.idempotencyKey!));
    }
  }
  for (const [to, set] of keysOf) assert.equal(set.size, 1, to);
  const count = new Map<string, number>();
  for (const d of fake.delivered) {
    const kind = d.tags?.find((t) => t.name === "kind")?.value;
    const k = `${d.to[0]} ${kind}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  for (const [k, n] of count) assert.equal(n, 1, `${k} delivered ${n} times`);
}

const kindOf = (d: ResendFake["delivered"][number]) =>
  d.tags?.find((t) => t.name === "kind")?.value;

Deno.test("three sweepers at once over the same 600 rows, each taking the others' parts of the due index over: each row dispatched once", () =>
  withKv(async (kv) => {
    const fake = await startResendFake();
    fake.latencyMs = 30;
    try {
      const s = await scheduleOwners(kv, {
        owners: 300,
        label: "three",
        scheduledAt: Date.now() + 3_600_000,
        leadHours: 2,
        channels: ["email", "webapp"],
      });
      // Sweeps normally read apart (due_index.ts). Here each runs on a clock
      // past the others' holds, as after a stall: each takes every part
      // over, and they race for the same rows.
      const runs = await Promise.all(
        [0, 1, 2].map((i) =>
          sweep(
            {
              kv,
              dispatchers: emailDispatchers(kv, fake),
              now: () => Date.now() + i * 40_000,
            },
            {
              pageSize: 50,
            },
          )
        ),
      );
      assert.equal(runs.reduce((n, r) => n + r.sent, 0), 600);
      // They raced for the same rows: claims were lost, and nothing doubled.
      assert.ok(runs.reduce((n, r) => n + r.claimsLost, 0) > 0, "no race");
      assertOnceUnderOneKey(fake);
      assert.equal(fake.delivered.length, 300);
      assert.deepEqual(
        new Set(fake.delivered.map((d) => d.to[0])),
        new Set(s.emails),
      );
      const rows = await allRows(kv);
      assert.ok(rows.every((r) => r.status === "sent"));
    } finally {
      await fake.close();
    }
  }));

Deno.test("the apply racing the sweep over 300 targets: no warning after the apply, none sent after the action time", () =>
  withKv(async (kv) => {
    const fake = await startResendFake();
    try {
      const scheduledAt = Date.now() + 2_500;
      const s = await scheduleOwners(kv, {
        owners: 300,
        label: "race",
        scheduledAt,
        leadHours: 1,
      });
      // A batch arriving in the last 800 ms before the action time is
      // answered only well after it: in flight when the apply comes round.
      fake.latencyFor = (at) =>
        at >= scheduledAt - 800 ? scheduledAt + 600 - at : 200;
      const dispatchers = emailDispatchers(kv, fake);
      // A lease (and dispatch timeout, half of it) long enough for the held batch.
      const sweeping = drain(kv, dispatchers, {
        pageSize: 20,
        concurrency: 1,
        leaseMs: 4_000,
      });
      await new Promise((r) => setTimeout(r, scheduledAt - Date.now()));
      // Every target at once, so an in-flight notice's target is reached
      // while its email is still on the way.
      const applied = await applyTick({
        kv,
        controller: embeddedController(kv),
        now: Date.now,
        concurrency: 300,
      });
      await sweeping;
      assert.equal(applied.applied, 300);

      const instances = new Map<string, Instance>();
      for await (const e of kv.list<Instance>({ prefix: keys.instances() })) {
        instances.set(e.value.ownerId, e.value);
      }
      const users = new Map<string, User>();
      for await (const e of kv.list<User>({ prefix: keys.users() })) {
        users.set(e.value.email, e.value);
      }
      let sent = 0;
      for (const d of fake.delivered) {
        const instance = instances.get(users.get(d.to[0])!.id)!;
        const restartedAt = Date.parse(instance.lastRestartAt!);
        assert.ok(d.at <= restartedAt, `${d.to[0]} warned after the restart`);
        sent++;
      }
      for (const r of fake.requests) {
        assert.ok(r.at < scheduledAt, "a request went out at the action time");
      }
      assertOnceUnderOneKey(fake);
      const rows = await allRows(kv);
      for (const r of rows) {
        assert.ok(
          r.status === "sent" ||
            (r.status === "failed" && r.error!.startsWith("too late")),
          `${r.status}: ${r.error}`,
        );
      }
      assert.equal(rows.filter((r) => r.status === "sent").length, sent);
      assert.equal(s.emails.length, 300);
      // The race really happened: some went out in time, some were too late,
      // and one batch was still in flight at the action time.
      assert.ok(sent > 0 && sent < 300, `${sent} of 300 sent`);
      assert.ok(fake.delivered.some((d) => d.at > scheduledAt), "in flight");
    } finally {
      await fake.close();
    }
  }));

Deno.test("a cancel racing the sweep: no warning after the cancel, a cancellation exactly where a warning went out", () =>
  withKv(async (kv) => {
    const fake = await startResendFake();
    fake.latencyMs = 60;
    try {
      const s = await scheduleOwners(kv, {
        owners: 200,
        label: "cancel",
        scheduledAt: Date.now() + 3_600_000,
        leadHours: 2,
      });
      const dispatchers = emailDispatchers(kv, fake);
      const sweeping = drain(kv, dispatchers, {
        pageSize: 20,
        concurrency: 1,
        leaseMs: 2_000,
      });
      await new Promise((r) => setTimeout(r, 250));
      await cancelAction({ kv, now: Date.now }, s.actionId);
      const cancelledAt = Date.now();
      await sweeping;
      await drain(kv, dispatchers);

      const notices = new Set(
        fake.delivered.filter((d) => kindOf(d) === "notice").map((d) =>
          d.to[0]
        ),
      );
      const cancellations = new Set(
        fake.delivered.filter((d) => kindOf(d) === "cancelled").map((d) =>
          d.to[0]
        ),
      );
      assert.ok(notices.size > 0 && notices.size < 200, `${notices.size}`);
      assert.deepEqual(cancellations, notices);
      assertOnceUnderOneKey(fake);
      for (const r of await allRows(kv)) {
        if (r.kind !== "notice" || r.status !== "sent") continue;
        assert.ok(
          Date.parse(r.claimedAt!) <= cancelledAt,
          "a notice was claimed after the cancel",
        );
      }
    } finally {
      await fake.close();
    }
  }));

Deno.test("the provider down (5xx, then answers that never come back in time), then back: every row delivered once, attempts bounded, nothing left sending", () =>
  withKv(async (kv) => {
    const fake = await startResendFake();
    let now = Date.now();
    const clock = () => now;
    try {
      const s = await scheduleOwners(kv, {
        owners: 150,
        label: "down",
        scheduledAt: now + 6 * 3_600_000,
        leadHours: 7,
        now,
      });
      const dispatchers = emailDispatchers(kv, fake, clock);
      const opts = { dispatchTimeoutMs: 300, leaseMs: 5_000 };
      // Down: 503 for every request.
      fake.outage = 503;
      await sweep({ kv, dispatchers, now: clock }, opts);
      // Still down: the provider takes the emails but answers too late.
      fake.outage = "slow";
      fake.slowMs = 600;
      for (let i = 0; i < 2; i++) {
        now += 10 * 60_000;
        await sweep({ kv, dispatchers, now: clock }, opts);
      }
      // Back (the slow answers still in flight finish first).
      fake.outage = null;
      await new Promise((r) => setTimeout(r, fake.slowMs + 100));
      for (let i = 0; i < 10; i++) {
        now += 30 * 60_000;
        await sweep({ kv, dispatchers, now: clock }, opts);
        const open = (await allRows(kv)).filter((r) =>
          r.status === "pending" || r.status === "sending"
        );
        if (!open.length) break;
      }

      assertOnceUnderOneKey(fake);
      assert.deepEqual(
        new Set(fake.delivered.map((d) => d.to[0])),
        new Set(s.emails),
      );
      const rows = await allRows(kv);
      for (const r of rows) {
        assert.equal(r.status, "sent");
        assert.ok(r.attempts <= MAX_ATTEMPTS, `${r.attempts} attempts`);
      }
      // Groups went out again under their key and were not delivered twice.
      const perKey = new Map<string, number>();
      for (const r of fake.requests) {
        perKey.set(r.idempotencyKey!, (perKey.get(r.idempotencyKey!) ?? 0) + 1);
      }
      assert.ok([...perKey.values()].every((n) => n >= 3), "re-sent per key");
      assert.equal(fake.delivered.length, 150);
      for await (const e of kv.list({ prefix: keys.noticeGroupLeases() })) {
        assert.fail(`lease left: ${JSON.stringify(e.key)}`);
      }
    } finally {
      await fake.close();
    }
  }));
