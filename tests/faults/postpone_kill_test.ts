/**
 * kill -9 around an owner's postpone. A child process (`_postpone_worker.ts`)
 * postpones an instance on a KV file and is stopped right before its commit
 * or right after it, while the apply of the instance's old stage runs around
 * it, and killed with SIGKILL; the apply process (`_apply_worker.ts`) is
 * killed right after its stage started or its first target was applied
 * while owners postpone; the sweeper (`_sweep_worker.ts`) is killed after
 * the provider accepted a warning the owner postponed while it was in
 * flight. Whatever died where: each instance is changed exactly once, at
 * its old time when the postpone never committed (or was refused) and at
 * its new time when it did, never both, never neither; a stage starts once;
 * the owner hears the old time at most once and the new time exactly once.
 */
import assert from "node:assert/strict";
import { keys } from "@/lib/kv/keys.ts";
import { addInstanceUpdate } from "@/lib/kv/instances.ts";
import { putUser } from "@/lib/kv/users.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { postponeInstance } from "@/lib/scheduler/postpone.ts";
import { applyTick } from "@/lib/jobs.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { createAppContext } from "@/lib/app_context.ts";
import { parseConfig } from "@/lib/config.ts";
import { AppError } from "@/lib/errors.ts";
import { formatDateTime } from "@/lib/format.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import {
  allTargetIdsOfAction,
  getStageEntries,
  getTargetEntries,
} from "@/lib/kv/actions.ts";
import type {
  ControllerResult,
  InstanceController,
} from "@/lib/apply/controller.ts";
import type { Instance, Notification, Stage, Target } from "@/lib/types.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import { aroundCommits } from "../helpers/kv.ts";
import {
  allHealthy,
  deps,
  HOUR,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import {
  openKvFile,
  startSweeper,
  startWorker,
  type Sweeper,
} from "./_harness.ts";

setQuietLogs(true);

const APPLY_WORKER = new URL("./_apply_worker.ts", import.meta.url).pathname;
const POSTPONE_WORKER =
  new URL("./_postpone_worker.ts", import.meta.url).pathname;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
const START = Date.parse("2030-01-01T00:00:00Z");
/** The change's time as scheduled: the old stage's. */
const T = START + 3 * HOUR;
/** The time owners postpone to. */
const LATER = T + DAY;
const iso = (ms: number) => new Date(ms).toISOString();

interface Owned {
  id: string;
  ownerId: string;
  email: string;
}

/**
 * `count` instances of as many owners, and a restart of them all, warned
 * two hours ahead by email, that owners may postpone twice, up to two days.
 */
async function restartOnFile(
  kv: Deno.Kv,
  count: number,
  o: { now: number; at: number; leadHours: number; notify?: boolean } = {
    now: START,
    at: T,
    leadHours: 2,
  },
): Promise<{ actionId: string; instances: Owned[] }> {
  await seedCatalog(kv);
  const seeded = await seedInstances(kv, count);
  const instances: Owned[] = [];
  for (const i of seeded) {
    const email = `${i.ownerId}@example.test`;
    await putUser(kv, i.ownerId, { email }, o.now);
    instances.push({ id: i.id, ownerId: i.ownerId, email });
  }
  const res = await scheduleAction(
    deps(kv, () => o.now),
    input(instances.map((i) => i.id), o.now, {
      actionType: "scheduled_restart",
      scheduledAt: iso(o.at),
      ...(o.notify === false
        ? { notify: false }
        : { noticeLeadHours: o.leadHours, noticeChannels: ["email"] }),
      ownerMayPostpone: { until: iso(o.at + 2 * DAY), times: 2 },
    }),
    { id: "admin" },
  );
  return { actionId: res.id, instances };
}

/**
 * A controller that changes the instance record as the embedded one does
 * and, in the same atomic write, counts the change in
 * `["fault_changes", instanceId]` (as `_apply_worker.ts` does).
 */
function recordingController(
  kv: Deno.Kv,
  now: () => number,
): InstanceController {
  const restart = async (id: string): Promise<ControllerResult> => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const cur = await kv.get<Instance>(keys.instance(id));
      if (!cur.value) return { ok: false, transient: false, error: "gone" };
      const at = iso(now());
      const res = await addInstanceUpdate(
        kv.atomic(),
        cur as Deno.KvEntry<Instance>,
        { ...cur.value, lastRestartAt: at, updatedAt: at },
      ).sum(["fault_changes", id], 1n).commit();
      if (res.ok) return { ok: true };
    }
    return { ok: false, transient: true, error: `${id} kept changing` };
  };
  return {
    name: "recording",
    restart: (i) => restart(i.id),
    changeVersion: (i) => restart(i.id),
    health: allHealthy,
  };
}

/**
 * The KV as the apply sees it, with a hook run once before the commit that
 * starts a stage and once before the commit that claims targets (the race
 * lands exactly there), and each stage start recorded once committed.
 */
function applyKv(
  kv: Deno.Kv,
  hooks: {
    beforeStart?: () => Promise<void>;
    beforeClaim?: () => Promise<void>;
  },
  started: number[],
): Deno.Kv {
  return aroundCommits(kv, async (commit, sets) => {
    const starts = sets.flatMap(([k, v]) =>
      k[0] === "stages" && (v as Stage).status === "running"
        ? [(v as Stage).index]
        : []
    );
    const claims = sets.some(([k, v]) =>
      k[0] === "targets" && k.length === 2 &&
      (v as Target).status === "running"
    );
    const hook = starts.length
      ? hooks.beforeStart
      : claims
      ? hooks.beforeClaim
      : undefined;
    if (hook === hooks.beforeStart) hooks.beforeStart = undefined;
    if (hook === hooks.beforeClaim) hooks.beforeClaim = undefined;
    await hook?.();
    const res = await commit();
    if (res.ok) started.push(...starts);
    return res;
  });
}

/** One apply tick in this process at each of `times`. */
async function ticks(kv: Deno.Kv, times: number[]): Promise<void> {
  let now = times[0];
  const controller = recordingController(kv, () => now);
  for (const t of times) {
    now = t;
    await applyTick({ kv, controller, now: () => now, concurrency: 1 });
  }
}

interface Answer {
  status: number;
  body: unknown;
}

/** A postponing child, stopped where told; `release` lets it go from its next stop. */
function startPostpone(
  kvPath: string,
  who: Owned,
  o: { now: number; to: number; stopAt: string },
): Sweeper & { release(): Promise<void>; answer(): Promise<Answer | null> } {
  const release = `${kvPath}.${crypto.randomUUID()}.go`;
  const w = startWorker(POSTPONE_WORKER, [
    kvPath,
    who.id,
    who.ownerId,
    who.email,
    String(o.now),
    iso(o.to),
    o.stopAt,
    release,
  ]);
  let released = 0;
  return {
    ...w,
    release: () => Deno.writeTextFile(`${release}-${++released}`, ""),
    async answer() {
      const line = await w.waitFor(/^result /, 60_000);
      if (!line) return null;
      const [, status, ...rest] = line.split(" ");
      return { status: Number(status), body: JSON.parse(rest.join(" ")) };
    },
  };
}

async function mustSee(w: Sweeper, pattern: RegExp): Promise<string> {
  const line = await w.waitFor(pattern, 60_000);
  assert.ok(line, `never printed ${pattern}:\n${w.lines.join("\n")}`);
  return line;
}

/** The owner's postpone in this process, its refusal as the route answers it. */
async function postponeHere(
  kv: Deno.Kv,
  who: Owned,
  now: number,
  to: number,
): Promise<Answer> {
  try {
    const body = await postponeInstance(
      { kv, now: () => now },
      who.id,
      { id: who.ownerId, email: who.email },
      { scheduledAt: iso(to) },
    );
    return { status: 200, body };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { status: err.status, body: err.message };
  }
}

async function targetOf(kv: Deno.Kv, actionId: string, instanceId: string) {
  const ts = await getTargetEntries(
    kv,
    await allTargetIdsOfAction(kv, actionId),
  );
  return ts.find((e) => e.value.instanceId === instanceId)!.value;
}

/**
 * The instance was changed exactly once, at `at`, and its target says the
 * same: applied, postponed `postpones` times, in the stage at that time.
 */
async function assertChangedOnceAt(
  kv: Deno.Kv,
  actionId: string,
  instanceId: string,
  at: number,
  postpones: number,
): Promise<void> {
  const count = (await kv.get<Deno.KvU64>(["fault_changes", instanceId]))
    .value;
  assert.equal(Number(count?.value ?? 0), 1, `${instanceId} changes`);
  const inst = (await kv.get<Instance>(keys.instance(instanceId))).value!;
  assert.equal(inst.lastRestartAt, iso(at), `${instanceId} changed when`);
  const t = await targetOf(kv, actionId, instanceId);
  assert.equal(t.status, "applied");
  assert.equal(t.postpones ?? 0, postpones, `${instanceId} postpones`);
  const stage = (await kv.get<Stage>(keys.stage(actionId, t.stageIndex)))
    .value!;
  assert.equal(stage.scheduledAt, iso(at), `${instanceId}'s stage time`);
  assert.equal(stage.status, "completed");
}

async function stagesOf(kv: Deno.Kv, actionId: string): Promise<Stage[]> {
  return (await getStageEntries(kv, actionId)).map((e) => e.value);
}

async function withKvFile(name: string, fn: (kvPath: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: `kiloclaw-${name}-` });
  try {
    await fn(`${dir}/kv.sqlite3`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const faultTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

faultTest(
  "postpone killed -9 just before its commit, the old stage's apply running meanwhile: the instance changes once, at the old time, and nothing of the postpone is left",
  () =>
    withKvFile("postpone-kill-before", async (kvPath) => {
      const setup = await openKvFile(kvPath);
      const { actionId, instances } = await restartOnFile(setup, 3);
      setup.close();
      const [mine] = instances;
      const p = startPostpone(kvPath, mine, {
        now: START + HOUR,
        to: LATER,
        stopAt: "commit:1",
      });
      await mustSee(p, /^stopped$/);
      const kv = await openKvFile(kvPath);
      try {
        const started: number[] = [];
        // The apply starts the old stage and, as it claims its targets, the
        // postponing process dies with its write unsent.
        await ticks(
          applyKv(kv, { beforeClaim: () => p.kill() }, started),
          [T],
        );
        await ticks(applyKv(kv, {}, started), [
          T + MINUTE,
          LATER,
          LATER + MINUTE,
        ]);
        assert.equal(p.lines.some((l) => l.startsWith("result ")), false);
        for (const i of instances) {
          await assertChangedOnceAt(kv, actionId, i.id, T, 0);
        }
        // No stage for the new time, no marker, nothing audited.
        assert.deepEqual((await stagesOf(kv, actionId)).map((s) => s.index), [
          0,
        ]);
        assert.deepEqual(started, [0]);
        assert.deepEqual(
          await Array.fromAsync(kv.list({ prefix: keys.targetsPostponing() })),
          [],
        );
        assert.deepEqual(
          await Array.fromAsync(
            kv.list({ prefix: keys.auditsByChange("target.postpone") }),
          ),
          [],
        );
      } finally {
        kv.close();
      }
    }),
);

faultTest(
  "postpone stopped just before its commit and let go once the old stage started: its commit loses, it is refused with a 409, the instance changes once at the old time",
  () =>
    withKvFile("postpone-late-commit", async (kvPath) => {
      const setup = await openKvFile(kvPath);
      const { actionId, instances } = await restartOnFile(setup, 3);
      setup.close();
      const [mine, ...others] = instances;
      const p = startPostpone(kvPath, mine, {
        now: START + HOUR,
        to: LATER,
        stopAt: "commit:1",
      });
      await mustSee(p, /^stopped$/);
      const kv = await openKvFile(kvPath);
      try {
        const started: number[] = [];
        let answer: Answer | null = null;
        // The stage has started, its targets are not claimed yet: the
        // postpone, read before the start, commits now.
        await ticks(
          applyKv(kv, {
            beforeClaim: async () => {
              await p.release();
              answer = await p.answer();
            },
          }, started),
          [T],
        );
        await p.done;
        assert.ok(answer, p.lines.join("\n"));
        const refused = answer as Answer;
        await ticks(applyKv(kv, {}, started), [
          T + MINUTE,
          LATER,
          LATER + MINUTE,
        ]);
        // Never both: had it been answered 200, the instance would have to
        // change at the new time, not with the stage that had started.
        const postponed = refused.status === 200;
        await assertChangedOnceAt(
          kv,
          actionId,
          mine.id,
          postponed ? LATER : T,
          postponed ? 1 : 0,
        );
        for (const i of others) {
          await assertChangedOnceAt(kv, actionId, i.id, T, 0);
        }
        assert.equal(refused.status, 409, JSON.stringify(refused.body));
        assert.match(String(refused.body), /has started/);
        assert.ok(p.lines.includes("phase lost 1"), p.lines.join("\n"));
        assert.deepEqual((await stagesOf(kv, actionId)).map((s) => s.index), [
          0,
        ]);
        assert.deepEqual(started, [0]);
      } finally {
        kv.close();
      }
    }),
);

faultTest(
  "postpone killed -9 just after its commit, landed just before the old stage started: the instance changes once, at its new time; the others at the old one",
  () =>
    withKvFile("postpone-kill-after", async (kvPath) => {
      const setup = await openKvFile(kvPath);
      const { actionId, instances } = await restartOnFile(setup, 3);
      setup.close();
      const [mine, ...others] = instances;
      const p = startPostpone(kvPath, mine, {
        now: START + HOUR,
        to: LATER,
        stopAt: "commit:1,committed:1",
      });
      await mustSee(p, /^stopped$/);
      const kv = await openKvFile(kvPath);
      try {
        const started: number[] = [];
        // The apply read the due stage; before it starts it, the postpone
        // commits and its process dies before it could answer.
        await ticks(
          applyKv(kv, {
            beforeStart: async () => {
              await p.release();
              await mustSee(p, /^phase committed 1$/);
              await p.kill();
            },
          }, started),
          [T],
        );
        assert.equal(p.lines.some((l) => l.startsWith("result ")), false);
        await ticks(applyKv(kv, {}, started), [
          T + MINUTE,
          LATER,
          LATER + MINUTE,
        ]);
        await assertChangedOnceAt(kv, actionId, mine.id, LATER, 1);
        for (const i of others) {
          await assertChangedOnceAt(kv, actionId, i.id, T, 0);
        }
        const stages = await stagesOf(kv, actionId);
        assert.deepEqual(
          stages.map((s) => [s.index, s.scheduledAt, s.origin ?? null]),
          [[0, iso(T), null], [1, iso(LATER), "postponed"]],
        );
        assert.deepEqual(started, [0, 1], "each stage started once");
      } finally {
        kv.close();
      }
    }),
);

faultTest(
  "two postpones of one instance read together, the first killed -9 just after its commit: the second loses, the instance is postponed and changed once, and its stage finishes",
  () =>
    withKvFile("postpone-twice-kill", async (kvPath) => {
      const setup = await openKvFile(kvPath);
      // No warnings: nothing but the target itself tells the two apart.
      const { actionId, instances } = await restartOnFile(setup, 3, {
        now: START,
        at: T,
        leadHours: 0,
        notify: false,
      });
      const [mine, theirs, third] = instances;
      // Another owner's postpone made the stage at the new time already.
      const joined = await postponeHere(setup, theirs, START + HOUR, LATER);
      assert.equal(joined.status, 200);
      setup.close();
      const first = startPostpone(kvPath, mine, {
        now: START + HOUR,
        to: LATER,
        stopAt: "commit:1,committed:1",
      });
      const second = startPostpone(kvPath, mine, {
        now: START + HOUR,
        to: LATER,
        stopAt: "commit:1",
      });
      await mustSee(first, /^stopped$/);
      await mustSee(second, /^stopped$/);
      await first.release();
      await mustSee(first, /^phase committed 1$/);
      await first.kill();
      await second.release();
      const lost = await second.answer();
      assert.ok(lost, second.lines.join("\n"));

      const kv = await openKvFile(kvPath);
      try {
        const started: number[] = [];
        await ticks(applyKv(kv, {}, started), [
          T,
          T + MINUTE,
          LATER,
          LATER + MINUTE,
        ]);
        await assertChangedOnceAt(kv, actionId, mine.id, LATER, 1);
        await assertChangedOnceAt(kv, actionId, theirs.id, LATER, 1);
        await assertChangedOnceAt(kv, actionId, third.id, T, 0);
        assert.deepEqual(started, [0, 1]);
        const action = await kv.get<{ status: string }>(keys.action(actionId));
        assert.equal(action.value?.status, "completed");
        // It read the target before the first commit: it must not count again.
        assert.notEqual(lost.status, 200, JSON.stringify(lost.body));
        assert.match(String(lost.body), /must be later/);
        assert.equal(
          (await Array.fromAsync(
            kv.list({ prefix: keys.auditsByChange("target.postpone") }),
          )).length,
          2,
          "one audit entry per postpone made",
        );
      } finally {
        kv.close();
      }
    }),
);

for (
  const [when, stopAt] of [
    ["its stage started", "started:1"],
    ["its first instance was changed", "applied:1"],
  ] as const
) {
  faultTest(
    `the apply killed -9 right after ${when}, owners postponing around it: each postpone is refused with a 409 or the instance changes at its new time, never both, never neither`,
    () =>
      withKvFile("postpone-apply-kill", async (kvPath) => {
        const kv = await openKvFile(kvPath);
        try {
          const { actionId, instances } = await restartOnFile(kv, 6);
          const postpone = (i: number) =>
            postponeHere(kv, instances[i], T - 2 * HOUR, LATER);
          const answers = new Map<number, Promise<Answer>>();
          // Before the apply: sure to win.
          answers.set(0, postpone(0));
          await answers.get(0);
          const w = startWorker(APPLY_WORKER, [
            kvPath,
            String(T),
            stopAt,
            "-",
          ]);
          // Racing the apply's start, on the real clock.
          await mustSee(w, /^ready$/);
          answers.set(1, postpone(1));
          await mustSee(w, /^at /);
          answers.set(2, postpone(2));
          await mustSee(w, /^stopped$/);
          // The stage has started: sure to lose, before and after the kill.
          answers.set(3, postpone(3));
          await answers.get(3);
          await w.kill();
          answers.set(4, postpone(4));
          const settled = new Map<number, Answer>();
          for (const [i, a] of answers) settled.set(i, await a);

          assert.equal(settled.get(0)!.status, 200);
          for (const i of [3, 4]) {
            const a = settled.get(i)!;
            assert.equal(a.status, 409, JSON.stringify(a.body));
            assert.match(
              String(a.body),
              /has started|no change is planned/,
            );
          }
          for (const [i, a] of settled) {
            assert.ok(
              a.status === 200 ||
                (a.status === 409 &&
                  /has started|no change is planned|try again/.test(
                    String(a.body),
                  )),
              `${i}: ${a.status} ${JSON.stringify(a.body)}`,
            );
          }

          // A fresh process finishes: targets stuck by the kill come back
          // after ten minutes; the new time comes.
          const later = [
            T + MINUTE,
            T + 11 * MINUTE,
            T + 12 * MINUTE,
            LATER,
            LATER + MINUTE,
          ];
          const rest = startWorker(APPLY_WORKER, [
            kvPath,
            later.join(","),
            "-",
            "-",
          ]);
          assert.equal((await rest.done).code, 0, rest.lines.join("\n"));

          const old = new Set([T, ...later.slice(0, 3)].map(iso));
          for (const [i, inst] of instances.entries()) {
            const postponed = settled.get(i)?.status === 200;
            const count = (await kv.get<Deno.KvU64>(["fault_changes", inst.id]))
              .value;
            assert.equal(Number(count?.value ?? 0), 1, `instance ${i} changes`);
            const changed = (await kv.get<Instance>(keys.instance(inst.id)))
              .value!.lastRestartAt!;
            const t = await targetOf(kv, actionId, inst.id);
            assert.equal(t.status, "applied");
            const stage =
              (await kv.get<Stage>(keys.stage(actionId, t.stageIndex)))
                .value!;
            if (postponed) {
              assert.equal(changed, iso(LATER), `instance ${i} changed when`);
              assert.equal(t.postpones, 1);
              assert.equal(stage.scheduledAt, iso(LATER));
            } else {
              assert.ok(
                old.has(changed),
                `instance ${i} changed at ${changed}`,
              );
              assert.equal(t.postpones ?? 0, 0);
              assert.equal(t.stageIndex, 0);
            }
          }
          const starts = [...w.lines, ...rest.lines]
            .map((l) => l.split(" "))
            .filter((p) => p[0] === "phase" && p[1] === "started")
            .map((p) => p[3]);
          assert.deepEqual(
            starts,
            [...new Set(starts)],
            "a stage started twice",
          );
          assert.deepEqual(
            [...new Set(starts)].sort(),
            (await stagesOf(kv, actionId)).map((s) => String(s.index)).sort(),
          );
        } finally {
          kv.close();
        }
      }),
  );
}

for (
  const [when, pauseAt] of [
    ["the provider accepted it", "accepted:1"],
    ["the answer was stored", "stored:1"],
  ] as const
) {
  faultTest(
    `a postpone while the owner's warning is in flight, the sweeper killed -9 after ${when}: the old time is told once, the new time exactly once, and the marker goes`,
    () =>
      withKvFile("postpone-sweep-kill", async (kvPath) => {
        const fake = await startResendFake();
        const kv = await openKvFile(kvPath);
        try {
          // The real clock: the sweeper child runs on it.
          const now = Math.floor(Date.now() / MINUTE) * MINUTE;
          const at = now + 3 * HOUR;
          const to = now + DAY;
          const { actionId, instances } = await restartOnFile(kv, 3, {
            now,
            at,
            leadHours: 4,
          });
          const [mine] = instances;
          const s = startSweeper(kvPath, fake.url, { pauseAt });
          await mustSee(s, /^paused$/);
          const t = await targetOf(kv, actionId, mine.id);
          const rows = async () =>
            (await Array.fromAsync(
              kv.list<Notification>({ prefix: keys.notifications() }),
            )).map((e) => e.value).filter((r) => r.targetId === t.id);
          assert.deepEqual(
            (await rows()).map((r) => `${r.kind} ${r.status}`),
            ["notice sending"],
          );
          const answer = await postponeHere(kv, mine, Date.now(), to);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          await s.kill();
          assert.ok((await kv.get(keys.targetPostponing(t.id))).value);

          const config = parseConfig({
            KV_PATH: kvPath,
            DEMO_SEED: "false",
            RESEND_API_KEY: "re_test_key",
            RESEND_BASE_URL: fake.url,
            EMAIL_RATE_PER_SECOND: "1000",
            NOTICE_LEASE_SECONDS: "2",
          });
          const ctx = createAppContext(config, kv);
          const controller = recordingController(kv, Date.now);
          const tick = () =>
            applyTick({ kv, controller, now: Date.now, concurrency: 1 });
          // The apply's housekeeping before the warning is marked: the owner
          // cannot be told the new time yet, and the marker stays.
          await tick();
          assert.ok((await kv.get(keys.targetPostponing(t.id))).value);
          assert.deepEqual(
            (await rows()).filter((r) => r.kind === "rescheduled"),
            [],
          );
          // Recovery: the lease ends, the group is sent again under its key.
          const deadline = Date.now() + 30_000;
          while (
            (await rows()).some((r) => r.status === "sending") &&
            Date.now() < deadline
          ) {
            await sweep(ctx, { leaseMs: 2_000, concurrency: 1 });
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.deepEqual(
            (await rows()).filter((r) => r.kind === "notice").map((r) =>
              r.status
            ),
            ["sent"],
          );
          // Housekeeping and sweeps, twice over: safe to run again.
          for (let i = 0; i < 2; i++) {
            await tick();
            await sweep(ctx, { leaseMs: 2_000, concurrency: 1 });
          }

          const told = fake.delivered.filter((d) => d.to.includes(mine.email));
          const kind = (d: (typeof told)[number]) =>
            d.tags?.find((x) => x.name === "kind")?.value;
          assert.equal(
            told.filter((d) => kind(d) === "notice").length,
            1,
            "the old time told once",
          );
          const moved = told.filter((d) => kind(d) === "rescheduled");
          assert.equal(moved.length, 1, "the new time told exactly once");
          assert.ok(
            moved[0].text.includes(formatDateTime(iso(to), "UTC")),
            moved[0].text,
          );
          assert.ok(
            moved[0].text.includes(formatDateTime(iso(at), "UTC")),
            moved[0].text,
          );
          assert.equal(told.length, 2);
          for (const other of instances.slice(1)) {
            assert.deepEqual(
              fake.delivered.filter((d) => d.to.includes(other.email)).map(
                kind,
              ),
              ["notice"],
            );
          }
          assert.equal((await kv.get(keys.targetPostponing(t.id))).value, null);
          assert.deepEqual(
            await Array.fromAsync(
              kv.list({ prefix: keys.targetsPostponing() }),
            ),
            [],
          );
        } finally {
          kv.close();
          await fake.close();
        }
      }),
  );
}
