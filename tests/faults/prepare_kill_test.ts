/**
 * kill -9 of a large schedule's process in the middle of its background
 * write. A child (`_prepare_worker.ts`) schedules every instance of a tag on
 * a KV file and writes it as the app does; it is killed with SIGKILL right
 * after its first commit (a part of the plan, before the action exists),
 * after the commit that makes the action `preparing`, after some instances
 * were written, and just before the action turns `scheduled`. Wherever it
 * died: the action is never `scheduled` half written, nothing was sent, and
 * the minute apply tick of a fresh process finishes the write (or, when the
 * action never appeared, removes what the request left) with every instance
 * written once and counters equal to a recount; each owner then gets one
 * email.
 */
import assert from "node:assert/strict";
import { keys } from "@/lib/kv/keys.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { putUser } from "@/lib/kv/users.ts";
import { ABANDONED_WRITE_MS, getActionCounters } from "@/lib/kv/actions.ts";
import { PREPARE_LEASE_MS } from "@/lib/scheduler/prepare_plan.ts";
import type { Notification, ScheduledAction, Target } from "@/lib/types.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import {
  countKeys,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import { assertCountersMatchRows } from "../helpers/counters.ts";
import { openKvFile, startWorker } from "./_harness.ts";

setQuietLogs(true);

const WORKER = new URL("./_prepare_worker.ts", import.meta.url).pathname;
const NOW = Date.parse("2030-01-01T00:00:00Z");
const INSTANCES = 1_200;
/** Below the fleet: the schedule goes to the background write. */
const INLINE = 100;

async function seeded(): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  const kv = await openKvFile(path);
  await seedCatalog(kv);
  const instances = await seedInstances(kv, INSTANCES, { prefix: "fleet" });
  for (const owner of new Set(instances.map((i) => i.ownerId))) {
    await putUser(kv, owner, { email: `${owner}@example.test` }, NOW);
  }
  kv.close();
  return path;
}

async function copyOf(path: string): Promise<string> {
  const to = await Deno.makeTempFile({ suffix: ".kv" });
  await Deno.copyFile(path, to);
  return to;
}

/** Runs the worker to the end, or kills it right after commit `stopAt`. */
async function runWorker(path: string, stopAt: number | null) {
  const w = startWorker(WORKER, [
    path,
    String(NOW),
    String(INLINE),
    stopAt === null ? "-" : String(stopAt),
  ]);
  if (stopAt !== null) {
    assert.ok(
      await w.waitFor(/^stopped$/, 60_000),
      `the worker reached commit ${stopAt}`,
    );
    await w.kill();
  } else {
    const status = await w.done;
    assert.equal(status.code, 0);
  }
  return w.lines;
}

async function listAll<T>(kv: Deno.Kv, prefix: Deno.KvKey): Promise<T[]> {
  const out: T[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e.value);
  return out;
}

Deno.test("kill -9 during a large action's background write: never a scheduled half action, nothing sent, and the apply tick finishes it with every instance once", async (t) => {
  const base = await seeded();
  // A full run tells how many commits the whole schedule takes.
  const full = await runWorker(await copyOf(base), null);
  const commits = full.filter((l) => l.startsWith("phase committed")).length;
  assert.ok(full.includes("result done"), full.slice(-3).join("\n"));
  assert.ok(commits > 10, `${commits} commits`);
  const stops: [string, number][] = [
    ["a part of the plan written, no action yet", 1],
    ["the action just became preparing", 2],
    ["a few instances written", 6],
    ["half the instances written", Math.floor(commits / 2)],
    ["every instance written, the action not yet scheduled", commits - 1],
  ];
  for (const [name, stopAt] of stops) {
    await t.step(`${name} (commit ${stopAt} of ${commits})`, async () => {
      const path = await copyOf(base);
      await runWorker(path, stopAt);
      const kv = await openKvFile(path);
      try {
        const actions = await listAll<ScheduledAction>(kv, keys.actions());
        assert.ok(actions.length <= 1);
        const action = actions[0];
        if (action) {
          assert.equal(
            action.status,
            "preparing",
            "never scheduled half written",
          );
          assert.equal(
            await countKeys(kv, keys.stagesDue()),
            0,
            "no stage due",
          );
        }
        const rows = await listAll<Notification>(kv, keys.notifications());
        assert.ok(rows.every((r) => r.status === "pending"), "nothing sent");

        // A fresh process's minute tick, once the dead runner's lease ran out
        // (and, for a write that never got its action, once it counts as abandoned).
        const later = NOW + Math.max(PREPARE_LEASE_MS, ABANDONED_WRITE_MS) + 1;
        await applyTick({
          kv,
          controller: embeddedController(kv, () => later),
          now: () => later,
        });
        assert.equal(
          await countKeys(kv, keys.actionPrepares()),
          0,
          "no job left",
        );
        assert.equal(
          await countKeys(kv, keys.prepareChunks()),
          0,
          "no part left",
        );
        if (!action) {
          assert.equal(await countKeys(kv, keys.actions()), 0);
          assert.equal(await countKeys(kv, keys.instancePendingTargets()), 0);
          return;
        }
        const done = (await kv.get<ScheduledAction>(keys.action(action.id)))
          .value!;
        assert.equal(done.status, "scheduled");
        assert.equal(done.preparing?.leftOut, 0);
        assert.equal((await getActionCounters(kv, action.id)).total, INSTANCES);
        const targets = await listAll<Target>(kv, keys.targets());
        assert.equal(
          new Set(targets.map((x) => x.instanceId)).size,
          INSTANCES,
          "every instance has a target",
        );
        assert.equal(targets.length, INSTANCES, "and only one");
        const all = await listAll<Notification>(kv, keys.notifications());
        assert.equal(all.length, 2 * INSTANCES, "an email and a banner each");
        await assertCountersMatchRows(
          kv,
          action.id,
          `a kill at commit ${stopAt}`,
        );

        // Every owner hears once, all their instances in one email.
        const d = recordingDispatchers();
        await sweep({ kv, dispatchers: d, now: () => later });
        const emails = d.email.dispatchedIds();
        assert.equal(emails.length, INSTANCES);
        assert.equal(new Set(emails).size, INSTANCES, "no row sent twice");
        const ownerOf = new Map(all.map((r) => [r.id, r.userId]));
        const callsOf = new Map<string, Set<number>>();
        d.email.calls.forEach((call, i) => {
          for (const id of call.ids) {
            const owner = ownerOf.get(id)!;
            callsOf.set(owner, (callsOf.get(owner) ?? new Set()).add(i));
          }
        });
        for (const [owner, calls] of callsOf) {
          assert.equal(calls.size, 1, `${owner}'s instances in one email`);
        }
      } finally {
        kv.close();
      }
    });
  }
});
