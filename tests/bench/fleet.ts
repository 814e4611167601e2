/**
 * A fleet for the benchmarks: owners with one running instance each (an
 * email address and a device), scheduled through the scheduler's own code,
 * and the app's own channels pointed at local stand-ins of Resend and Expo.
 */
import { keys } from "@/lib/kv/keys.ts";
import { addNewInstanceIndexes } from "@/lib/kv/instances.ts";
import { testConfig } from "@/lib/config.ts";
import { createDispatchers, createEmailSender } from "@/lib/channels/mod.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import type { Dispatchers } from "@/lib/channels/types.ts";
import { type Instance, type User, WEEKDAYS } from "@/lib/types.ts";
import type { ResendFake } from "../fakes/resend_server.ts";
import type { ExpoFake } from "../fakes/expo_server.ts";

export const TAG = "2026.11.1";
/** Instances a seeding commit writes: each with its owner and index keys stays under KV's 1,000 mutations. */
const SEED_PART = 70;
const ZONES = [
  "Asia/Kolkata",
  "Europe/Berlin",
  "America/New_York",
  "Australia/Sydney",
  "UTC",
];

/**
 * Writes `count` owners (each with an address and a device) and their
 * instances, many per commit (the write path of one user at a time would
 * dominate the set-up, not the figures).
 */
export async function seedFleet(
  kv: Deno.Kv,
  count: number,
  opts: {
    ownersPer?: number;
    prefix?: string;
    /** Owners hold 1, 2, … up to this many instances in turn (instead of `ownersPer` each). */
    upToPerOwner?: number;
    /** Each owner gets a zone and a maintenance window (days, hour and zone vary by owner). */
    windows?: boolean;
  } = {},
): Promise<string[]> {
  await putCatalogEntry(kv, TAG, { openclawVersion: "1.8.2" });
  const prefix = opts.prefix ?? "fleet";
  const ownersPer = opts.ownersPer ?? 1;
  // Owner of each instance, and whether it is the owner's first.
  const ownerOf: number[] = [];
  const firstOf: boolean[] = [];
  for (let owner = 0; ownerOf.length < count; owner++) {
    const n = opts.upToPerOwner ? (owner % opts.upToPerOwner) + 1 : ownersPer;
    for (let k = 0; k < n && ownerOf.length < count; k++) {
      ownerOf.push(owner);
      firstOf.push(k === 0);
    }
  }
  const at = new Date().toISOString();
  const ids: string[] = [];
  for (let i = 0; i < count; i += SEED_PART) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(count, i + SEED_PART); j++) {
      const ownerIndex = ownerOf[j];
      const ownerId = `${prefix}-owner-${String(ownerIndex).padStart(6, "0")}`;
      if (firstOf[j]) {
        const email = `${ownerId}@example.test`;
        const user: User = {
          id: ownerId,
          email,
          name: `Owner ${ownerIndex}`,
          timeZone: opts.windows ? ZONES[ownerIndex % ZONES.length] : null,
          role: "user",
          pushTokens: [`ExponentPushToken[${ownerId}]`],
          createdAt: at,
          updatedAt: at,
        };
        op.set(keys.user(ownerId), user)
          .set(keys.userByEmail(email), ownerId)
          .set(keys.pushTokenOwner(user.pushTokens[0]), ownerId);
        if (opts.windows) {
          op.set(keys.userSettings(ownerId), {
            maintenanceWindow: {
              days: [WEEKDAYS[ownerIndex % 7], WEEKDAYS[(ownerIndex + 3) % 7]],
              startHour: ownerIndex % 24,
              lengthHours: 2,
            },
            channels: { email: true, mobile_push: true },
            quietHours: null,
            updatedAt: at,
          });
        }
      }
      const id = `${prefix}-${String(j).padStart(6, "0")}`;
      const instance: Instance = {
        id,
        name: `claw ${j}`,
        ownerId,
        imageTag: TAG,
        pinnedImageTag: null,
        status: "running",
        lastRestartAt: null,
        createdAt: at,
        updatedAt: at,
      };
      addNewInstanceIndexes(op.set(keys.instance(id), instance), instance);
      ids.push(id);
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("seeding the fleet failed");
  }
  return ids;
}

/** Schedules a restart of `ids` at `scheduledAt`, notified on every channel; returns the action id and the seconds it took. */
export async function scheduleFleet(
  kv: Deno.Kv,
  ids: string[],
  o: {
    now: number;
    scheduledAt: number;
    leadHours: number;
    notify?: boolean;
    /** Into owners' windows from `scheduledAt` up to this deadline. */
    windowsUntil?: number;
  },
): Promise<{ actionId: string; seconds: number; stages: number }> {
  const at = new Date(o.scheduledAt).toISOString();
  const input = ScheduleInputSchema.parse({
    actionType: "scheduled_restart",
    instanceIds: ids,
    ...(o.windowsUntil
      ? {
        timing: {
          mode: "owner_window",
          notBefore: at,
          deadline: new Date(o.windowsUntil).toISOString(),
        },
      }
      : { scheduledAt: at }),
    notify: o.notify ?? true,
    noticeLeadHours: o.leadHours,
    noticeChannels: ["email", "webapp", "mobile_push"],
  });
  const started = performance.now();
  const res = await scheduleAction(
    { kv, config: { scheduleMinAheadSeconds: 0 }, now: () => o.now },
    input,
    { id: "bench" },
  );
  return {
    actionId: res.id,
    seconds: (performance.now() - started) / 1000,
    stages: res.stages.length,
  };
}

/** The app's own dispatchers (Resend SDK, Expo SDK), pointed at the stand-ins. */
export function fleetDispatchers(
  kv: Deno.Kv,
  resend: ResendFake,
  expo: ExpoFake,
  emailRatePerSecond: number,
  now: () => number = Date.now,
): Dispatchers {
  const config = testConfig({
    resendApiKey: resend.apiKey,
    resendBaseUrl: resend.url,
    expoBaseUrl: expo.url,
    expoAccessToken: "expo-bench",
    pushViaExpo: true,
    emailRatePerSecond,
  });
  const email = createEmailSender(config, kv, now);
  return createDispatchers({ config, kv, email, now });
}

/** Whether any row is still open: due, or held in a group under a lease. */
export async function anyOpen(kv: Deno.Kv): Promise<boolean> {
  for (const prefix of [keys.notificationsDue(), keys.noticeGroupLeases()]) {
    for await (const _ of kv.list({ prefix }, { limit: 1 })) return true;
  }
  return false;
}

export interface ConcurrentDrain {
  seconds: number;
  claimsLost: number;
  sent: number;
  /** Rows each sweep sent, per round that sent any. */
  sentBySweep: number[][];
}

/**
 * Rounds of `sweepsAtOnce` sweeps started together, as the jobs of several
 * processes are (they share the due index's parts between them), until no
 * row is open; a round with nothing due waits a second for retries.
 */
export async function drainConcurrently(
  kv: Deno.Kv,
  dispatchers: Dispatchers,
  sweepsAtOnce: number,
  now: () => number = Date.now,
): Promise<ConcurrentDrain> {
  const started = performance.now();
  let claimsLost = 0;
  let sent = 0;
  let rounds = 0;
  const shares: number[][] = [];
  while (await anyOpen(kv) && rounds++ < 50) {
    const runs = await Promise.all(
      Array.from(
        { length: sweepsAtOnce },
        () => sweep({ kv, dispatchers, now }),
      ),
    );
    shares.push(runs.map((r) => r.sent));
    for (const r of runs) {
      claimsLost += r.claimsLost;
      sent += r.sent;
    }
    if (runs.every((r) => r.processed === 0)) {
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  return {
    seconds: (performance.now() - started) / 1000,
    claimsLost,
    sent,
    sentBySweep: shares.filter((s) => s.some((n) => n > 0)),
  };
}
