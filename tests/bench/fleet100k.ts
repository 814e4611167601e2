/**
 * `fleet100k`: one restart of a whole image tag, 100,000 instances of
 * 100,000 owners, warned by email, push and banner, through the app as an
 * admin drives it: scheduled with one `POST /api/admin/scheduled-actions`
 * (`selector: {imageTag}`; past `scheduleInlineTargets` the app answers 202
 * and writes the action in the background, which is polled until it is
 * scheduled), drained by several sweeps at once against the Resend and Expo
 * stand-ins at the provider's rate, its action page and progress read, then
 * applied by the minute apply with the embedded controller on a clock moved
 * past the action's time.
 *
 * The app runs in this process on a temporary KV file, so the process's
 * memory is the app's and not the stored data's. The file goes to /dev/shm
 * where there is one: on this project's virtual disk every KV commit waits
 * for the disk's flush, which measured the disk, not the app (a drain of
 * 4,000 owners took 41 s there against 13 s in /dev/shm, with the same
 * resident memory). `BENCH_FLEET100K_KV_DIR` puts it elsewhere. The memory is sampled every
 * 200 ms from the schedule request to the end of the apply (the seeding of
 * the fleet, a stand-in for data already there, is left out).
 *
 * `runFleet` leaves the app open for the caller to inspect (the small test
 * of the same path asserts on its KV); `fleet100k` runs it and closes it.
 */
import { keys } from "@/lib/kv/keys.ts";
import { applyTick } from "@/lib/jobs.ts";
import { readNoticeCounts } from "@/lib/notices/counters.ts";
import type { Config } from "@/lib/config.ts";
import type { InstanceController } from "@/lib/apply/controller.ts";
import type { ScheduledAction, User } from "@/lib/types.ts";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { drainConcurrently, seedFleet, TAG } from "./fleet.ts";
import {
  PROVIDER_LATENCY_MS,
  PROVIDER_RATE,
  type StandIns,
  standIns,
} from "./stand_ins.ts";

const MINUTE = 60_000;
const PREFIX = "fleet100k";
/** How often the background write's progress is asked for. */
const POLL_MS = 250;
const RSS_SAMPLE_MS = 200;
/** Reads of the action page and of its progress, of which the median is kept. */
const PAGE_READS = 7;

/** The one JSON line the bench prints: exactly these fields. */
export interface Fleet100kFigures {
  setupSeconds: number;
  scheduleSeconds: number;
  drainSeconds: number;
  floorSeconds: number;
  drainOverFloor: number;
  claimsLost: number;
  dupes: number;
  missing: number;
  applySeconds: number;
  maxRssMb: number;
  actionPageMs: number;
  progressMs: number;
}

export interface FleetRun {
  figures: Fleet100kFigures;
  app: TestApp;
  actionId: string;
  instances: number;
  owners: number;
  /** 201 when the action was written within the request, 202 when in the background. */
  scheduleStatus: number;
  /** How far the background write said it was, from the 202 answer on (empty for a 201). */
  preparing: Preparing[];
  /** The phase the memory peaked in. */
  maxRssPhase: Phase;
  /** The rows the sweeps sent. */
  sent: number;
  /** Restarts the controller made, by instance id. */
  restarts: Map<string, number>;
  /** Owners with more than one email or push, and owners with none of either. */
  delivery: {
    emailDupes: number;
    pushDupes: number;
    emailMissing: number;
    pushMissing: number;
    bannersNotSent: number;
  };
  close(): Promise<void>;
}

export interface FleetOptions {
  /** Instances on the tag, one owner each. */
  size: number;
  sweepsAtOnce?: number;
  /** App configuration over the bench's (stand-ins, provider's rate). */
  config?: Partial<Config>;
  /** Where the temporary KV file goes (default: /dev/shm, else the system's temporary folder). */
  kvDir?: string;
}

/** /dev/shm when this machine has it: a file there is kept in memory, outside the process. */
function memoryBackedDir(): string | undefined {
  try {
    return Deno.statSync("/dev/shm").isDirectory ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
}

/** Where the run is, for the memory's peak to be placed. */
type Phase = "schedule" | "drain" | "pages" | "apply";

/**
 * The largest of `Deno.memoryUsage().rss` sampled every 200 ms until
 * stopped, and the phase it was seen in.
 */
function rssSampler() {
  let phase: Phase = "schedule";
  let max: { bytes: number; phase: Phase } = {
    bytes: Deno.memoryUsage().rss,
    phase,
  };
  const sample = () => {
    const bytes = Deno.memoryUsage().rss;
    if (bytes > max.bytes) max = { bytes, phase };
  };
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  return {
    enter(next: Phase) {
      sample();
      phase = next;
    },
    stop() {
      clearInterval(timer);
      sample();
      return max;
    },
  };
}

/** Counts the controller's successful restarts per instance. */
function countingRestarts(
  controller: InstanceController,
  restarts: Map<string, number>,
): InstanceController {
  return {
    name: controller.name,
    async restart(instance, opts) {
      const res = await controller.restart(instance, opts);
      if (res.ok) {
        restarts.set(instance.id, (restarts.get(instance.id) ?? 0) + 1);
      }
      return res;
    },
    changeVersion: (instance, tag, opts) =>
      controller.changeVersion(instance, tag, opts),
    health: (ids) => controller.health(ids),
  };
}

const median = (xs: number[]) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

async function medianMs(
  n: number,
  read: () => Promise<Response>,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await read();
    await res.arrayBuffer();
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
  }
  return median(times);
}

interface Preparing {
  written: number;
  total: number;
}

/** An action's status and background write as an answer of the API gives them. */
function stateOf(
  body: {
    status?: string;
    action?: { status?: string };
    preparing?: Preparing | null;
    progress?: Preparing;
  },
) {
  return {
    status: body.status ?? body.action?.status,
    preparing: body.preparing ?? body.progress ?? null,
  };
}

/**
 * Schedules the tag-wide restart through the API; on a 202, polls the
 * progress until the action leaves `preparing`. Answers the action id,
 * the request's status and the seconds until the action was scheduled.
 */
async function scheduleTag(
  app: TestApp,
  scheduledAt: number,
): Promise<
  {
    actionId: string;
    status: number;
    seconds: number;
    preparing: Preparing[];
  }
> {
  const started = performance.now();
  const res = await app.api("POST", "/api/admin/scheduled-actions", {
    actionType: "scheduled_restart",
    selector: { imageTag: TAG },
    scheduledAt: new Date(scheduledAt).toISOString(),
    reason: "Fleet-wide restart",
    noticeLeadHours: 24,
    noticeChannels: ["email", "webapp", "mobile_push"],
  });
  const body = await res.json();
  if (res.status !== 201 && res.status !== 202) {
    throw new Error(
      `scheduling answered ${res.status}: ${JSON.stringify(body)}`,
    );
  }
  const actionId: string = body.id;
  let { status, preparing } = stateOf(body);
  const seen = preparing ? [preparing] : [];
  const giveUpAt = Date.now() + 10 * MINUTE;
  while (status === "preparing") {
    if (Date.now() > giveUpAt) {
      throw new Error(
        `still preparing after 10 minutes: ${JSON.stringify(seen.at(-1))}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    const progress = await app.api(
      "GET",
      `/api/admin/scheduled-actions/${actionId}/progress`,
    );
    const p = await progress.json();
    if (progress.status !== 200) {
      throw new Error(
        `progress answered ${progress.status}: ${JSON.stringify(p)}`,
      );
    }
    ({ status, preparing } = stateOf(p));
    if (preparing) seen.push(preparing);
  }
  if (status !== "scheduled") {
    throw new Error(`the action is ${status}, not scheduled`);
  }
  return {
    actionId,
    status: res.status,
    seconds: (performance.now() - started) / 1000,
    preparing: seen,
  };
}

/** Every fleet owner's address and device, from KV. */
async function fleetOwners(kv: Deno.Kv): Promise<User[]> {
  const owners: User[] = [];
  for await (
    const e of kv.list<User>({
      start: keys.user(`${PREFIX}-owner-`),
      end: keys.user(`${PREFIX}-owner-\uffff`),
    }, { batchSize: 1000 })
  ) owners.push(e.value);
  return owners;
}

/**
 * Owners who got a channel more than once, and owners who never got it:
 * `received` holds the deliveries per recipient, `recipientOf` names each
 * owner's recipient on the channel.
 */
function deliveryGaps(
  owners: User[],
  received: Record<string, number>,
  recipientOf: (u: User) => string,
) {
  let dupes = 0;
  let missing = 0;
  for (const u of owners) {
    const n = received[recipientOf(u)] ?? 0;
    if (n === 0) missing++;
    if (n > 1) dupes += n - 1;
  }
  return { dupes, missing };
}

/** Plays the whole action through; the app stays open until `close()`. */
export async function runFleet(o: FleetOptions): Promise<FleetRun> {
  const setupStarted = performance.now();
  const dir = await Deno.makeTempDir({
    prefix: "fleet100k-",
    dir: o.kvDir ?? memoryBackedDir(),
  });
  let s: StandIns | null = null;
  let app: TestApp | null = null;
  const close = async () => {
    await app?.close();
    await s?.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    s = await standIns({
      rateLimit: PROVIDER_RATE,
      latencyMs: PROVIDER_LATENCY_MS,
    });
    // Real time, moved past the action's time for the apply.
    let shift = 0;
    const now = () => Date.now() + shift;
    app = await createTestApp({
      kvPath: `${dir}/kv.sqlite3`,
      config: {
        resendApiKey: s.apiKey,
        resendBaseUrl: s.resendUrl,
        expoBaseUrl: s.expoUrl,
        expoAccessToken: "expo-bench",
        pushViaExpo: true,
        emailRatePerSecond: PROVIDER_RATE,
        ...o.config,
      },
      context: { now },
    });
    const restarts = new Map<string, number>();
    app.ctx.controller = countingRestarts(app.ctx.controller, restarts);
    await seedFleet(app.kv, o.size, { prefix: PREFIX });
    const admin = await app.signIn({ admin: true });
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    const rss = rssSampler();
    const floorSeconds = o.size / 100 / PROVIDER_RATE;
    // Far enough ahead for every warning to go out before it (never late).
    const scheduledAt = Date.now() +
      Math.max(15 * MINUTE, 4_000 * floorSeconds);
    const scheduled = await scheduleTag(app, scheduledAt);
    const { actionId } = scheduled;

    rss.enter("drain");
    const drained = await drainConcurrently(
      app.kv,
      app.ctx.dispatchers,
      o.sweepsAtOnce ?? 3,
      now,
    );

    rss.enter("pages");
    const actionPageMs = await medianMs(
      PAGE_READS,
      () =>
        app!.request(`/admin/actions/${actionId}`, {
          headers: { cookie: admin.cookie },
        }),
    );
    const progressMs = await medianMs(
      PAGE_READS,
      () =>
        app!.api("GET", `/api/admin/scheduled-actions/${actionId}/progress`),
    );

    rss.enter("apply");
    shift = scheduledAt - Date.now() + MINUTE;
    const applyStarted = performance.now();
    for (let tick = 0; tick < 60; tick++) {
      await applyTick({
        ...app.ctx,
        concurrency: app.ctx.config.controllerConcurrency,
      });
      const action = await app.kv.get<ScheduledAction>(keys.action(actionId));
      const status = action.value?.status;
      if (status !== "scheduled" && status !== "running") break;
      // A minute a tick, as the cron runs it.
      shift += MINUTE;
    }
    const applySeconds = (performance.now() - applyStarted) / 1000;
    const maxRss = rss.stop();

    const [owners, received, counts] = await Promise.all([
      fleetOwners(app.kv),
      s.recipients(),
      readNoticeCounts(app.kv, actionId),
    ]);
    const email = deliveryGaps(owners, received.emails, (u) => u.email);
    const push = deliveryGaps(owners, received.pushes, (u) => u.pushTokens[0]);
    const bannersSent = counts
      .filter((t) => t.kind === "notice" && t.channel === "webapp")
      .reduce((n, t) => n + t.sent, 0);
    const delivery = {
      emailDupes: email.dupes,
      pushDupes: push.dupes,
      emailMissing: email.missing,
      pushMissing: push.missing,
      bannersNotSent: owners.length - bannersSent,
    };
    const round = (n: number, digits = 2) => Number(n.toFixed(digits));
    return {
      figures: {
        setupSeconds: round(setupSeconds),
        scheduleSeconds: round(scheduled.seconds),
        drainSeconds: round(drained.seconds),
        floorSeconds,
        drainOverFloor: round(drained.seconds / floorSeconds),
        claimsLost: drained.claimsLost,
        dupes: email.dupes + push.dupes,
        missing: email.missing + push.missing + delivery.bannersNotSent,
        applySeconds: round(applySeconds),
        maxRssMb: round(maxRss.bytes / 2 ** 20, 0),
        actionPageMs: round(actionPageMs, 1),
        progressMs: round(progressMs, 1),
      },
      app,
      actionId,
      instances: o.size,
      owners: owners.length,
      scheduleStatus: scheduled.status,
      preparing: scheduled.preparing,
      maxRssPhase: maxRss.phase,
      sent: drained.sent,
      restarts,
      delivery,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The bench: `BENCH_FLEET100K_SIZE` instances (100,000 by default), run and closed. */
export async function fleet100k(): Promise<
  { figures: Fleet100kFigures; scheduleStatus: number; maxRssPhase: Phase }
> {
  const size = Number(Deno.env.get("BENCH_FLEET100K_SIZE") ?? 100_000);
  const run = await runFleet({
    size,
    kvDir: Deno.env.get("BENCH_FLEET100K_KV_DIR") || undefined,
  });
  try {
    const twice = [...run.restarts.values()].filter((n) => n > 1).length;
    if (run.restarts.size !== size || twice > 0) {
      throw new Error(
        `${run.restarts.size} of ${size} instances restarted, ${twice} of them more than once`,
      );
    }
    return {
      figures: run.figures,
      scheduleStatus: run.scheduleStatus,
      maxRssPhase: run.maxRssPhase,
    };
  } finally {
    await run.close();
  }
}
