/**
 * kill -9 at every phase of the sweep. A child process sweeps a KV file
 * against a local Resend stand-in that records every request and replays a
 * repeated idempotency key; it is killed with SIGKILL right after the claim,
 * after the group is sealed, after the provider accepted a batch, after the
 * answer was stored, between partial marks, and at random moments. A clean
 * process then finishes. Whatever the interleaving: no recipient reaches the
 * provider under two keys, nobody gets a notice twice, no row is lost or
 * left unfinished, no warning goes out after its action time, and the
 * notice counters still equal a recount from the rows.
 */
import assert from "node:assert/strict";
import { startResendFake } from "../fakes/resend_server.ts";
import { keys } from "@/lib/kv/keys.ts";
import type { Notification } from "@/lib/types.ts";
import { recountAction } from "@/lib/notices/recount.ts";
import { assertCountersMatchRows } from "../helpers/counters.ts";
import {
  openKvFile,
  recipientsOf,
  scheduleOwners,
  startSweeper,
} from "./_harness.ts";

const PHASES = ["claimed", "sealed", "accepted", "stored", "marked"];

Deno.test({
  name:
    "kill -9 at every phase and at random: each row reaches the provider under one key, once, never late",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiloclaw-kill-" });
  const kvPath = `${dir}/kv.sqlite3`;
  const fake = await startResendFake();
  fake.latencyMs = 40;
  try {
    const kv = await openKvFile(kvPath);
    const start = Date.now();
    // 600 owners warned for a restart an hour away; 60 more for one whose
    // time comes while the sweepers are being killed.
    const calm = await scheduleOwners(kv, {
      owners: 600,
      label: "calm",
      scheduledAt: start + 3_600_000,
      leadHours: 2,
    });
    const soon = await scheduleOwners(kv, {
      owners: 60,
      label: "soon",
      scheduledAt: start + 12_000,
      leadHours: 1,
    });
    kv.close();

    const plan: string[] = [];
    for (const nth of [1, 2, 3]) {
      for (const p of PHASES) plan.push(`${p}:${nth}`, `random:${p}${nth}`);
    }
    const missed: string[] = [];
    let kills = 0;
    for (const step of plan) {
      const random = step.startsWith("random");
      const s = startSweeper(kvPath, fake.url, {
        pauseAt: random ? undefined : step,
      });
      if (random) {
        await s.waitFor(/^ready$/, 20_000);
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 250));
      } else {
        await s.waitFor(/^(paused|done)$/, 20_000);
      }
      if (!s.lines.includes("done")) kills++;
      else missed.push(step);
      await s.kill();
    }
    assert.ok(kills >= 20, `only ${kills} kills landed; missed ${missed}`);

    const last = startSweeper(kvPath, fake.url, { maxMs: 60_000 });
    const status = await last.done;
    assert.equal(status.code, 0);
    assert.ok(last.lines.includes("done"));

    // Each recipient reached the provider under one idempotency key only.
    const keysOf = new Map<string, Set<string>>();
    for (const r of fake.requests) {
      for (const to of recipientsOf(r.body)) {
        const set = keysOf.get(to) ?? new Set<string>();
        set.add(r.idempotencyKey ?? "(none)");
        keysOf.set(to, set);
      }
    }
    for (const [to, set] of keysOf) {
      assert.equal(set.size, 1, `${to} was sent under ${[...set].join(", ")}`);
    }
    // Crashes after a send made recovery send groups again, under their key.
    const perKey = new Map<string, number>();
    for (const r of fake.requests) {
      perKey.set(r.idempotencyKey!, (perKey.get(r.idempotencyKey!) ?? 0) + 1);
    }
    assert.ok(
      [...perKey.values()].some((n) => n > 1),
      "no group was sent twice: the kills did not exercise recovery",
    );

    // Nobody got a notice twice; every calm owner got exactly one.
    const deliveredTo = new Map<string, number[]>();
    for (const d of fake.delivered) {
      for (const to of d.to) {
        deliveredTo.set(to, [...deliveredTo.get(to) ?? [], d.at]);
      }
    }
    for (const to of calm.emails) {
      assert.equal(deliveredTo.get(to)?.length, 1, `${to} delivered`);
    }
    // No warning sent after its action time: every request carrying one
    // reached the provider before it.
    for (const to of soon.emails) {
      const at = deliveredTo.get(to) ?? [];
      assert.ok(at.length <= 1, `${to} delivered ${at.length} times`);
    }
    for (const r of fake.requests) {
      if (recipientsOf(r.body).some((m) => m.startsWith("soon-"))) {
        assert.ok(r.at < soon.scheduledAt, "a warning went out late");
      }
    }

    // Every row is final: calm ones sent, soon ones sent in time or too late.
    const check = await openKvFile(kvPath);
    try {
      const rows: Notification[] = [];
      for await (
        const e of check.list<Notification>({ prefix: keys.notifications() })
      ) rows.push(e.value);
      assert.equal(rows.length, 660);
      const byAction = (id: string) => rows.filter((r) => r.actionId === id);
      const unsent = byAction(calm.actionId).filter((r) => r.status !== "sent");
      assert.deepEqual(
        unsent.map((r) =>
          `${r.id} ${r.status} ${r.error} (${r.attempts} attempts)`
        ),
        [],
        "every calm row is sent",
      );
      for (const r of byAction(soon.actionId)) {
        assert.ok(
          r.status === "sent" ||
            (r.status === "failed" && r.error!.startsWith("too late")),
          `${r.status} ${r.error}`,
        );
      }
      for (
        const prefix of [keys.notificationsDue(), keys.noticeGroupLeases()]
      ) {
        for await (const e of check.list({ prefix })) {
          assert.fail(`left behind: ${JSON.stringify(e.key)}`);
        }
      }
      // Every claim, recovery and mark moved the counts with the row: they
      // equal a recount, and the repair finds nothing to correct.
      for (const actionId of [calm.actionId, soon.actionId]) {
        await assertCountersMatchRows(check, actionId, "the kills");
        assert.equal((await recountAction(check, actionId)).corrected, 0);
      }
    } finally {
      check.close();
    }
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
