/**
 * The performance record (`deno task bench`): every figure measured in this
 * one process against local stand-ins of Resend and Expo (their own process,
 * so the figures are the app's), printed as a table and, as the last line,
 * one JSON object. Each figure names the share of CPU time the host took
 * from this machine meanwhile ("host steal"): on a shared host, the first
 * thing to look at when a figure is slow.
 *
 *   deno task bench            every figure
 *   deno task bench fleetDrain idleSweep   only those
 *   BENCH_CONCURRENT_OWNERS=2000 deno task bench concurrentDrain   a smaller fleet
 *   deno task bench fleet100k   a whole tag of 100,000 (only when named;
 *     BENCH_FLEET100K_SIZE=12000 for a smaller one)
 */
import { firstDueKeys } from "@/lib/notices/due_index.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import type { SweepOptions } from "@/lib/notices/sweep_deps.ts";
import { getBannerStatus } from "@/lib/notices/banner.ts";
import { applyDue } from "@/lib/apply/apply.ts";
import { rescheduleAction } from "@/lib/scheduler/reschedule.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { addNewRow } from "@/lib/notices/rows.ts";
import { keys } from "@/lib/kv/keys.ts";
import { newId } from "@/lib/ids.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { makeAction, makeStage, makeTarget } from "../helpers/records.ts";
import { createTestApp } from "../helpers/app.ts";
import {
  anyOpen,
  drainConcurrently,
  fleetDispatchers,
  scheduleFleet,
  seedFleet,
} from "./fleet.ts";
import type { Dispatchers } from "@/lib/channels/types.ts";
import { createDispatchers, createEmailSender } from "@/lib/channels/mod.ts";
import { DAY_MS, purgeEndedActions } from "@/lib/scheduler/retention.ts";
import { testConfig } from "@/lib/config.ts";
import { rollout10k } from "./rollout10k.ts";
import { fleet100k } from "./fleet100k.ts";
import {
  PROVIDER_LATENCY_MS,
  PROVIDER_RATE,
  type StandIns,
  standIns,
} from "./stand_ins.ts";
import type { Notification } from "@/lib/types.ts";

setQuietLogs(true);
const only = new Set(Deno.args);
const wanted = (name: string) => only.size === 0 || only.has(name);
const HOUR = 3_600_000;
const FLEET = 10_000;
const figures: Record<string, unknown> = {};
const table: [string, string, string, string][] = [];

/**
 * The CPU time the host took from this virtual machine (`steal` in
 * /proc/stat), as a share of all CPU time since the last call: on a shared
 * host it explains a slow figure. null where /proc/stat cannot be read.
 */
function stealMeter() {
  const read = () => {
    try {
      const cpu = Deno.readTextFileSync("/proc/stat").split("\n")[0];
      const n = cpu.trim().split(/\s+/).slice(1, 9).map(Number);
      return { steal: n[7], total: n.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  let last = read();
  return () => {
    const now = read();
    const share = now && last && now.total > last.total
      ? (now.steal - last.steal) / (now.total - last.total) * 100
      : null;
    last = now;
    return share;
  };
}
const stolen = stealMeter();
const steal: Record<string, number> = {};
const row = (name: string, value: string, goal: string) => {
  const share = stolen();
  if (share !== null) steal[name] = round(share, 1);
  table.push([name, value, goal, share === null ? "" : `${round(share, 0)} %`]);
};
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
/** The middle of the figures (the upper middle of an even count). */
const median = (xs: number[]) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

function dispatchersFor(kv: Deno.Kv, s: StandIns, rate: number) {
  return fleetDispatchers(
    kv,
    { url: s.resendUrl, apiKey: s.apiKey } as never,
    { url: s.expoUrl } as never,
    rate,
  );
}

/**
 * Sweeps until every row is final, waiting for retries to come due; returns
 * the seconds, the sweeps that did something, and the rows retried.
 */
async function drain(
  kv: Deno.Kv,
  dispatchers: Dispatchers,
  opts: SweepOptions = {},
) {
  const started = performance.now();
  let sweeps = 0;
  let retried = 0;
  for (let i = 0; i < 50 && await anyOpen(kv); i++) {
    const run = await sweep({ kv, dispatchers, now: Date.now }, opts);
    retried += run.retried;
    if (run.processed > 0) {
      sweeps++;
      continue;
    }
    // Nothing due now: wait for the earliest retry (or a lease) to come round.
    let next = Date.now() + 1_000;
    for (const k of await firstDueKeys(kv, Number.MAX_SAFE_INTEGER, 1)) {
      next = Math.max(Date.now(), k.dueAt);
    }
    await new Promise((r) =>
      setTimeout(r, Math.min(next - Date.now() + 10, 70_000))
    );
  }
  return { seconds: (performance.now() - started) / 1000, sweeps, retried };
}

/** A fleet of `FLEET` owners scheduled with a notice on every channel, its window open now. */
async function fleet() {
  const kv = await Deno.openKv(":memory:");
  const ids = await seedFleet(kv, FLEET);
  const now = Date.now();
  const scheduled = await scheduleFleet(kv, ids, {
    now,
    scheduledAt: now + 3 * HOUR,
    leadHours: 4,
  });
  return { kv, scheduleSeconds: scheduled.seconds };
}

/**
 * The reference design in the same engine: 100 rows a tick, 10 at a time,
 * one email a request, a tick a minute. Its first 1,000 rows are swept tick
 * by tick; each tick counts as a minute, or as long as it took if longer.
 */
async function referenceRowsPerSecond(): Promise<number> {
  const kv = await Deno.openKv(":memory:");
  const s = await standIns({
    rateLimit: PROVIDER_RATE,
    latencyMs: PROVIDER_LATENCY_MS,
  });
  try {
    const ids = await seedFleet(kv, 334, { prefix: "reference" });
    const now = Date.now();
    await scheduleFleet(kv, ids, {
      now,
      scheduledAt: now + 3 * HOUR,
      leadHours: 4,
    });
    const d = dispatchersFor(kv, s, PROVIDER_RATE);
    const oneEmailARequest = { ...d, email: { ...d.email, maxGroupSize: 1 } };
    let rows = 0;
    let seconds = 0;
    while (rows < 1_000) {
      const started = performance.now();
      const run = await sweep(
        { kv, dispatchers: oneEmailARequest, now: Date.now },
        { pageSize: 100, maxPages: 1, concurrency: 10 },
      );
      if (run.processed === 0) break;
      rows += run.sent + run.failed;
      seconds += Math.max(60, (performance.now() - started) / 1000);
    }
    return rows / seconds;
  } finally {
    await s.close();
    kv.close();
  }
}

// Moving an action of 10,000 targets: the stage, then every pending notice re-timed.
/**
 * A fixed single-thread workload of the kind the drain does (records copied
 * field by field, put through V8's serializer as KV does, written as JSON):
 * the same on every host, so the ms it takes tells hosts apart when the CPU
 * figures above differ between runs on different days.
 */
function hostReferenceMs(): number {
  const base = {
    id: "01a24e5a-4b98-77d2-9222-a3810015dce0",
    actionId: "01a24e5a-4b98-77d2-9222-a3810015dce1",
    targetId: "01a24e5a-4b98-77d2-9222-a3810015dce2",
    kind: "notice",
    channel: "email",
    status: "pending",
    dueAt: 1_796_610_876_575,
    attempts: 0,
    groupId: null as string | null,
    error: null as string | null,
    createdAt: "2026-12-07T02:35:09.870Z",
  };
  const times: number[] = [];
  for (let run = 0; run < 5; run++) {
    const t = performance.now();
    let size = 0;
    for (let i = 0; i < 30_000; i++) {
      const row = { ...base, attempts: i, groupId: `g-${i % 100}` };
      size += structuredClone(row).attempts + JSON.stringify(row).length;
    }
    if (size < 0) throw new Error("unreachable");
    times.push(performance.now() - t);
  }
  return median(times);
}
{
  const ms = hostReferenceMs();
  figures.hostReferenceMs = round(ms, 1);
  row(
    "hostReference",
    `${round(ms, 1)} ms for a fixed JavaScript workload`,
    "lower is a faster host",
  );
}

if (wanted("reschedule10k")) {
  const kv = await Deno.openKv(":memory:");
  try {
    const ids = await seedFleet(kv, FLEET, { prefix: "move" });
    const now = Date.now();
    const { actionId } = await scheduleFleet(kv, ids, {
      now,
      scheduledAt: now + 3 * HOUR,
      leadHours: 1,
    });
    const started = performance.now();
    const report = await rescheduleAction(
      { kv, now: Date.now, config: { scheduleMinAheadSeconds: 0 } },
      actionId,
      { scheduledAt: new Date(now + 30 * HOUR).toISOString(), reason: null },
    );
    const seconds = (performance.now() - started) / 1000;
    figures.reschedule10k = { targets: report.moved, seconds: round(seconds) };
    row(
      "reschedule10k",
      `${report.moved} targets moved in ${round(seconds)} s`,
      "one request",
    );
  } finally {
    kv.close();
  }
}

// One message per owner: 3,000 instances whose owners hold 1 to 5 each.
if (wanted("ownerBundles")) {
  const kv = await Deno.openKv(":memory:");
  const s = await standIns({
    rateLimit: PROVIDER_RATE,
    latencyMs: PROVIDER_LATENCY_MS,
  });
  try {
    const ids = await seedFleet(kv, 3_000, {
      prefix: "bundles",
      upToPerOwner: 5,
    });
    // Sizes 1..5 in turn: 15 instances per 5 owners.
    const owners = ids.length / 3;
    const now = Date.now();
    await scheduleFleet(kv, ids, {
      now,
      scheduledAt: now + 3 * HOUR,
      leadHours: 4,
    });
    const { seconds, sweeps } = await drain(
      kv,
      dispatchersFor(kv, s, PROVIDER_RATE),
    );
    const stats = await s.stats();
    figures.ownerBundles = {
      instances: ids.length,
      owners,
      emails: stats.delivered,
      seconds: round(seconds),
      sweeps,
    };
    row(
      "ownerBundles",
      `${stats.delivered} emails for ${ids.length} instances of ${owners} owners (1–5 each), drained in ${
        round(seconds)
      } s, ${sweeps} sweep(s)`,
      "one email per owner",
    );
  } finally {
    await s.close();
    kv.close();
  }
}

if (wanted("schedule10kWindows")) {
  // 10,000 owners each with a window, in four zones and UTC, over a week:
  // scheduled into their windows and, side by side on the same fleet, at one
  // time (the schedule10k baseline), in turns, best of two each.
  const runs: Record<"windows" | "oneTime", number[]> = {
    windows: [],
    oneTime: [],
  };
  let stages = 0;
  for (const mode of ["windows", "oneTime", "oneTime", "windows"] as const) {
    const kv = await Deno.openKv(":memory:");
    try {
      const ids = await seedFleet(kv, FLEET, {
        prefix: "windows",
        windows: true,
      });
      const now = Date.now();
      const scheduled = await scheduleFleet(kv, ids, {
        now,
        scheduledAt: now + 3 * HOUR,
        ...(mode === "windows" ? { windowsUntil: now + 7 * 24 * HOUR } : {}),
        leadHours: 4,
      });
      runs[mode].push(scheduled.seconds);
      if (mode === "windows") stages = scheduled.stages;
    } finally {
      kv.close();
    }
  }
  const windows = Math.min(...runs.windows);
  const oneTime = Math.min(...runs.oneTime);
  figures.schedule10kWindows = {
    seconds: round(windows),
    oneTimeSeconds: round(oneTime),
    ratio: round(windows / oneTime),
    stages,
  };
  row(
    "schedule10kWindows",
    `${round(windows)} s, ${stages} stages; ${
      round(windows / oneTime)
    }× the same fleet at one time (${round(oneTime)} s)`,
    "≤ 1.5× schedule10k",
  );
}

if (wanted("fleetDrain") || wanted("schedule10k")) {
  const { kv, scheduleSeconds } = await fleet();
  figures.schedule10k = { seconds: round(scheduleSeconds) };
  row("schedule10k", `${round(scheduleSeconds)} s`, "≤ 3 s");
  if (wanted("fleetDrain")) {
    const s = await standIns({
      rateLimit: PROVIDER_RATE,
      latencyMs: PROVIDER_LATENCY_MS,
    });
    try {
      // A sign-in email asked for 5 s into the drain, through the same budget.
      const signIn = (async () => {
        await new Promise((r) => setTimeout(r, 5_000));
        const sender = createEmailSender(
          testConfig({
            resendApiKey: s.apiKey,
            resendBaseUrl: s.resendUrl,
            emailRatePerSecond: PROVIDER_RATE,
          }),
          kv,
        );
        const t = performance.now();
        const res = await sender.send({
          to: "someone@example.test",
          subject: "Your sign-in link",
          html: "<p>sign in</p>",
          text: "sign in",
        }, { idempotencyKey: `sign-in-${crypto.randomUUID()}` });
        if (!res.ok) throw new Error(`the sign-in email failed: ${res.error}`);
        return (performance.now() - t) / 1000;
      })();
      const { seconds, sweeps, retried } = await drain(
        kv,
        dispatchersFor(kv, s, PROVIDER_RATE),
      );
      const signInSeconds = await signIn;
      const stats = await s.stats();
      const rows = FLEET * 3;
      const floorSeconds = FLEET / 100 / PROVIDER_RATE;
      const reference = await referenceRowsPerSecond();
      const ratio = rows / seconds / reference;
      figures.fleetDrain = {
        targets: FLEET,
        rows,
        seconds: round(seconds),
        floorSeconds,
        ratio: round(ratio, 0),
        rejected429: stats.rejected429,
        sweeps,
        retried,
        emailsPerSecond: round(stats.delivered / seconds, 1),
        providerRequests: stats.requests,
        signInDuringDrainSeconds: round(signInSeconds),
        referenceRowsPerSecond: round(reference, 2),
      };
      row(
        "fleetDrain",
        `${round(seconds)} s for ${rows} rows (${
          round(seconds / floorSeconds)
        }× the ${floorSeconds} s floor), ${stats.rejected429} × 429, ${sweeps} sweep(s), ${
          round(ratio, 0)
        }× the reference`,
        "≤ 1.25× floor, 0 × 429, ≤ 3 sweeps, ≥ 50×",
      );
      row(
        "signInDuringDrain",
        `${round(signInSeconds)} s from asking to the provider's answer`,
        "a few seconds",
      );
    } finally {
      await s.close();
    }
  }
  kv.close();
}

if (wanted("overheadRowsPerSecond")) {
  // The median of five drains, each of a fresh fleet: one drain on a shared
  // machine varies by more than the differences worth measuring.
  const runs: number[] = [];
  const s = await standIns({ rateLimit: null, latencyMs: 0 });
  try {
    for (let i = 0; i < 5; i++) {
      const { kv } = await fleet();
      try {
        const { seconds } = await drain(kv, dispatchersFor(kv, s, 1_000));
        runs.push(FLEET * 3 / seconds);
      } finally {
        kv.close();
      }
    }
  } finally {
    await s.close();
  }
  const perSecond = median(runs);
  figures.overheadRowsPerSecond = round(perSecond, 0);
  row(
    "overheadRowsPerSecond",
    `${round(perSecond, 0)} rows/s, median of ${
      runs.map((r) => round(r, 0)).join(", ")
    } (${FLEET * 3} rows a drain)`,
    "≥ 5,000",
  );
}

// Several sweeps at once over one fleet (the minute job, the admin's button,
// other isolates): they split the due rows instead of racing for the same
// ones, so hardly a claim is lost, and the drain keeps to the provider's floor.
if (wanted("concurrentDrain")) {
  const owners = Number(Deno.env.get("BENCH_CONCURRENT_OWNERS") ?? 3_000);
  const SWEEPS = Number(Deno.env.get("BENCH_SWEEPS_AT_ONCE") ?? 3);
  const kv = await Deno.openKv(":memory:");
  const s = await standIns({
    rateLimit: PROVIDER_RATE,
    latencyMs: PROVIDER_LATENCY_MS,
  });
  try {
    const ids = await seedFleet(kv, owners, { prefix: "concurrent" });
    const now = Date.now();
    // Three actions, as an operator cutting a fleet in parts would.
    const third = Math.ceil(ids.length / 3);
    for (let i = 0; i < ids.length; i += third) {
      await scheduleFleet(kv, ids.slice(i, i + third), {
        now,
        scheduledAt: now + 3 * HOUR,
        leadHours: 4,
      });
    }
    const { seconds, claimsLost, sent, sentBySweep } = await drainConcurrently(
      kv,
      dispatchersFor(kv, s, PROVIDER_RATE),
      SWEEPS,
    );
    const stats = await s.stats();
    const rows = owners * 3;
    const floorSeconds = owners / 100 / PROVIDER_RATE;
    figures.concurrentDrain = {
      owners,
      rows,
      sweepsAtOnce: SWEEPS,
      seconds: round(seconds),
      floorSeconds,
      drainOverFloor: round(seconds / floorSeconds),
      claimsLost,
      claimsLostPercent: round(claimsLost / Math.max(1, sent) * 100),
      sent,
      emails: stats.delivered,
      dupes: Math.max(0, stats.delivered - owners),
      rejected429: stats.rejected429,
      sentBySweep,
    };
    row(
      "concurrentDrain",
      `${SWEEPS} sweeps at once over ${rows} rows: ${claimsLost} claims lost (${
        round(claimsLost / Math.max(1, sent) * 100)
      } % of ${sent} sent), ${round(seconds)} s (${
        round(seconds / floorSeconds)
      }× the ${floorSeconds} s floor), ${stats.delivered} emails for ${owners} owners, ${stats.rejected429} × 429`,
      "< 1 % lost, ≤ 1.25× floor, one email per owner",
    );
  } finally {
    await s.close();
    kv.close();
  }
}

/**
 * Medians of `n` runs each of `a` and `b`, in ms, taken in turns so that
 * both see the same machine. Every thread of this process is kept on one
 * core meanwhile (`taskset`, restored after): a KV store's own thread,
 * left free, may sit on the other core, and on a virtual machine waking it
 * there costs about 70 µs a call (seen here: the same empty read took
 * 0.017 ms or 0.09 ms by where the kernel had put that thread), which
 * would be measured instead of the stored data. `pinned` says whether the
 * pinning took.
 */
async function medianPairMs(
  n: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<{ a: number; b: number; pinned: boolean }> {
  const restore = await pinToOneCore();
  try {
    for (let i = 0; i < Math.ceil(n / 8); i++) await a(), await b();
    const times = { a: [] as number[], b: [] as number[] };
    for (let i = 0; i < n; i++) {
      for (const [fn, into] of [[a, times.a], [b, times.b]] as const) {
        const t = performance.now();
        await fn();
        into.push(performance.now() - t);
      }
    }
    return { a: median(times.a), b: median(times.b), pinned: !!restore };
  } finally {
    await restore?.();
  }
}

const onOneCore = (pinned: boolean) =>
  pinned ? ", on one core" : ", threads free (taskset failed)";

/** Puts every thread of this process on its first allowed core; returns how to undo it, or null when `taskset` cannot. */
async function pinToOneCore(): Promise<(() => Promise<void>) | null> {
  const taskset = async (...args: string[]) => {
    const out = await new Deno.Command("taskset", {
      args,
      stdout: "piped",
      stderr: "null",
    }).output().catch(() => null);
    return out?.success ? new TextDecoder().decode(out.stdout) : null;
  };
  const pid = String(Deno.pid);
  // "pid 12's current affinity list: 0,1"
  const list = (await taskset("-c", "-p", pid))?.split(":").pop()?.trim();
  if (!list) return null;
  const first = list.split(",")[0].split("-")[0];
  if (await taskset("-a", "-c", "-p", first, pid) === null) return null;
  return async () => void await taskset("-a", "-c", "-p", list, pid);
}

if (wanted("idleSweep")) {
  const empty = await Deno.openKv(":memory:");
  const stored = await Deno.openKv(":memory:");
  // 100,000 rows due in 99 days.
  const action = makeAction({ noticeLeadHours: 1 });
  const later = Date.now() + 100 * 24 * HOUR;
  const stage = makeStage(action, later);
  for (let i = 0; i < 100_000; i += 90) {
    const op = stored.atomic();
    for (let j = i; j < Math.min(100_000, i + 90); j++) {
      const target = makeTarget(action, {
        instanceId: `i-${j}`,
        userId: `u-${j}`,
        sourceImageTag: "v1",
      });
      const rowValue: Notification = {
        id: newId(),
        actionId: action.id,
        stageIndex: 0,
        targetId: target.id,
        instanceId: target.instanceId,
        userId: target.userId,
        kind: "notice",
        channel: "email",
        status: "pending",
        dueAt: later - HOUR,
        attempts: 0,
        groupId: null,
        claimId: null,
        claimedAt: null,
        sentAt: null,
        error: null,
        createdAt: action.createdAt,
        updatedAt: action.createdAt,
      };
      addNewRow(op, rowValue);
    }
    await op.commit();
  }
  await stored.atomic().set(keys.action(action.id), action)
    .set(keys.stage(action.id, 0), stage).commit();
  const d = dispatchersFor(empty, {
    resendUrl: "http://127.0.0.1:9",
    apiKey: "unused",
    expoUrl: "http://127.0.0.1:9",
  } as StandIns, 5);
  const once = (kv: Deno.Kv) => () =>
    sweep({ kv, dispatchers: d, now: Date.now });
  const { a: emptyMs, b: storedMs, pinned } = await medianPairMs(
    41,
    once(empty),
    once(stored),
  );
  figures.idleSweep = {
    emptyMs: round(emptyMs),
    storedMs: round(storedMs),
    ratio: round(storedMs / emptyMs),
    oneCore: pinned,
  };
  row(
    "idleSweep",
    `${round(emptyMs)} ms empty, ${
      round(storedMs)
    } ms with 100,000 future rows (×${round(storedMs / emptyMs)})${
      onOneCore(pinned)
    }`,
    "ratio ≤ 1.5",
  );
  empty.close();
  stored.close();
}

if (wanted("bannerStatus")) {
  /** One instance with a live action (its banner showing) and `past` finished ones before it. */
  const instanceWithHistory = async (past: number) => {
    const kv = await Deno.openKv(":memory:");
    const instanceId = "claw-1";
    const now = Date.now();
    for (let i = 0; i < past; i += 200) {
      const op = kv.atomic();
      for (let j = i; j < Math.min(past, i + 200); j++) {
        const a = makeAction({ status: "completed" }, now - 2 * HOUR);
        const t = makeTarget(a, {
          instanceId,
          userId: "owner",
          sourceImageTag: "v1",
        }, { status: "applied" });
        op.set(keys.action(a.id), a)
          .set(keys.stage(a.id, 0), makeStage(a, now - HOUR))
          .set(keys.target(t.id), t)
          .set(keys.targetByInstance(instanceId, t.id), null);
      }
      await op.commit();
    }
    const a = makeAction({ noticeLeadHours: 2 }, now);
    const t = makeTarget(a, {
      instanceId,
      userId: "owner",
      sourceImageTag: "v1",
    });
    const op = kv.atomic()
      .set(keys.action(a.id), a)
      .set(keys.stage(a.id, 0), makeStage(a, now + HOUR))
      .set(keys.target(t.id), t)
      .set(keys.targetByInstance(instanceId, t.id), null)
      .set(keys.instancePendingTarget(instanceId), {
        actionId: a.id,
        targetId: t.id,
      });
    addNewRow(op, {
      id: newId(),
      actionId: a.id,
      stageIndex: 0,
      targetId: t.id,
      instanceId,
      userId: "owner",
      kind: "notice",
      channel: "webapp",
      status: "sent",
      dueAt: now - HOUR,
      attempts: 1,
      groupId: null,
      claimId: null,
      claimedAt: null,
      sentAt: null,
      error: null,
      createdAt: a.createdAt,
      updatedAt: a.createdAt,
    });
    await op.commit();
    return { kv, instanceId };
  };
  const one = await instanceWithHistory(0);
  const many = await instanceWithHistory(10_000);
  const read = (x: { kv: Deno.Kv; instanceId: string }) => async () => {
    const s = await getBannerStatus(x.kv, x.instanceId, Date.now());
    if (!s.scheduledAction) throw new Error("the banner should show");
  };
  const { a: oneMs, b: manyMs, pinned } = await medianPairMs(
    301,
    read(one),
    read(many),
  );
  figures.bannerStatus = {
    oneMs: round(oneMs, 3),
    manyMs: round(manyMs, 3),
    ratio: round(manyMs / oneMs),
    oneCore: pinned,
  };
  row(
    "bannerStatus",
    `${round(oneMs, 3)} ms with 1 action, ${
      round(manyMs, 3)
    } ms with 10,000 (×${round(manyMs / oneMs)})${onOneCore(pinned)}`,
    "ratio ≤ 1.5",
  );
  one.kv.close();
  many.kv.close();
}

if (wanted("apply10k")) {
  const kv = await Deno.openKv(":memory:");
  const ids = await seedFleet(kv, FLEET, { prefix: "apply" });
  const now = Date.now();
  await scheduleFleet(kv, ids, {
    now: now - HOUR,
    scheduledAt: now,
    leadHours: 2,
  });
  const started = performance.now();
  const result = await applyDue({
    kv,
    controller: embeddedController(kv),
    now: () => now,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.applied !== FLEET) throw new Error(`applied ${result.applied}`);
  figures.apply10k = { seconds: round(seconds) };
  row("apply10k", `${round(seconds)} s for ${FLEET} due restarts`, "about 3 s");
  kv.close();
}

if (wanted("retention10k")) {
  // An action of 10,000 targets played through (its notices swept to the
  // outbox, then applied), and the daily purge 401 days on.
  const kv = await Deno.openKv(":memory:");
  const ids = await seedFleet(kv, FLEET, { prefix: "retention" });
  let now = Date.now();
  await scheduleFleet(kv, ids, {
    now,
    scheduledAt: now + 3 * HOUR,
    leadHours: 4,
  });
  const config = testConfig();
  const dispatchers = createDispatchers({
    config,
    kv,
    email: createEmailSender(config, kv),
    now: () => now,
  });
  while (await anyOpen(kv)) await sweep({ kv, dispatchers, now: () => now });
  now += 3 * HOUR + 1_000;
  await applyDue({ kv, controller: embeddedController(kv), now: () => now });
  const started = performance.now();
  const purged = await purgeEndedActions(kv, {
    now: now + 401 * DAY_MS,
    retentionDays: 400,
  });
  const seconds = (performance.now() - started) / 1000;
  if (purged.actions !== 1 || purged.targets !== FLEET) {
    throw new Error(`purged ${JSON.stringify(purged)}`);
  }
  figures.retention10k = {
    targets: purged.targets,
    rows: purged.rows,
    seconds: round(seconds),
  };
  row(
    "retention10k",
    `${purged.targets} targets and ${purged.rows} rows removed in ${
      round(seconds)
    } s`,
    "a daily job",
  );
  kv.close();
}

if (wanted("rollout10k")) {
  const r = await rollout10k(FLEET);
  figures.rollout10k = {
    seconds: round(r.seconds),
    healthCalls: r.healthCalls,
    ticks: r.ticks,
    waves: r.waves.map((w) => ({ ...w, seconds: round(w.seconds) })),
  };
  row(
    "rollout10k",
    `${round(r.seconds)} s for ${r.instances} in waves of ${
      r.waves.map((w) => w.size).join(", ")
    } (${r.ticks} ticks); ${r.healthCalls} health calls (${
      r.waves.map((w) => w.healthCalls).join(" + ")
    })`,
    "about apply10k; calls = ⌈wave ÷ 100⌉",
  );
}

// A whole tag of 100,000 instances: minutes of drain, so only when named.
if (only.has("fleet100k")) {
  const { figures: f, scheduleStatus, maxRssPhase } = await fleet100k();
  figures.fleet100k = f;
  console.log(JSON.stringify(f));
  row(
    "fleet100k",
    `schedule ${f.scheduleSeconds} s (${scheduleStatus}), drain ${f.drainSeconds} s (${f.drainOverFloor}× the ${f.floorSeconds} s floor), ${f.claimsLost} claims lost, ${f.dupes} dupes, ${f.missing} missing, apply ${f.applySeconds} s, ${f.maxRssMb} MB RSS (peak in the ${maxRssPhase}), action page ${f.actionPageMs} ms, progress ${f.progressMs} ms`,
    "schedule ≤ 15 s, ≤ 1.15× floor, claims lost < 1 % of rows, 0 dupes, 0 missing, < 300 MB, pages < 300 ms",
  );
}

/** Installs wrk with apt when it is missing; null when it cannot. */
async function wrkPath(): Promise<string | null> {
  const which = async () => {
    const out = await new Deno.Command("sh", {
      args: ["-c", "command -v wrk"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  const found = await which();
  if (found) return found;
  const install = await new Deno.Command("sh", {
    args: [
      "-c",
      "(apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null 2>&1",
    ],
  }).output().catch(() => null);
  return install?.success ? await which() : null;
}

if (wanted("workspacePage")) {
  const wrk = await wrkPath();
  if (!wrk) {
    figures.workspacePage = {
      skipped: "wrk is not installed and apt could not install it",
    };
    row("workspacePage", "skipped: wrk missing", "—");
  } else {
    const app = await createTestApp();
    try {
      const owner = await app.signIn({ email: "owner@example.test" });
      const ids = await seedFleet(app.kv, 1, { prefix: "page" });
      await app.kv.set(keys.instance(ids[0]), {
        ...(await app.kv.get(keys.instance(ids[0]))).value as object,
        ownerId: owner.user.id,
      });
      const now = Date.now();
      await scheduleFleet(app.kv, ids, {
        now,
        scheduledAt: now + HOUR,
        leadHours: 2,
      });
      await sweep({
        kv: app.kv,
        dispatchers: app.ctx.dispatchers,
        now: Date.now,
      });
      await app.serve(async (origin) => {
        const url = `${origin}/claw/${ids[0]}`;
        const check = await fetch(url, { headers: { cookie: owner.cookie } });
        const html = await check.text();
        if (check.status !== 200 || !/restart/i.test(html)) {
          throw new Error(`the workspace page answered ${check.status}`);
        }
        const out = await new Deno.Command(wrk, {
          args: [
            "-t2",
            "-c32",
            "-d10s",
            "--latency",
            "-H",
            `cookie: ${owner.cookie}`,
            url,
          ],
          stdout: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        // Let the requests wrk left open finish before the app closes.
        await new Promise((r) => setTimeout(r, 500));
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
        const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text);
        const p99Ms = p99
          ? Number(p99[1]) * ({ us: 0.001, ms: 1, s: 1000 }[p99[2]] ?? 1)
          : NaN;
        const non2xx = Number(
          /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0,
        );
        figures.workspacePage = {
          requestsPerSecond: round(rps, 0),
          p99Ms: round(p99Ms, 1),
          non2xx,
          connections: 32,
        };
        row(
          "workspacePage",
          `${round(rps, 0)} req/s, p99 ${
            round(p99Ms, 1)
          } ms (32 connections, 10 s)`,
          "—",
        );
      });
    } finally {
      await app.close();
    }
  }
}

const width = Math.max(...table.map((r) => r[0].length));
console.log(`\n${"figure".padEnd(width)}  host steal  result  (goal)`);
for (const [name, value, goal, stealShare] of table) {
  console.log(
    `${name.padEnd(width)}  ${stealShare.padStart(10)}  ${value}  (${goal})`,
  );
}
// The host's share of the CPU time while each figure (and its set-up) ran.
if (Object.keys(steal).length) figures.hostStealPercent = steal;
console.log(
  `\nmachine: ${navigator.hardwareConcurrency} cores, ${
    Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
  } GiB, deno ${Deno.version.deno}`,
);
console.log(JSON.stringify(figures));
