/**
 * Demo data for a first local start: an admin, three users, two image tags,
 * eight instances, and sign-in links printed for the admin and one user.
 * Given the app's context it also plays four actions through the real
 * scheduler, sweep and apply path: one applied two days ago, one called off
 * after its notices went out, a rollout in waves that its health gate paused
 * after an unhealthy canary, and one whose notice window is open, so the
 * demo user's banner shows on first sign-in.
 */
import { keys } from "./kv/keys.ts";
import { addPushToken, hasAnyUser, putUser } from "./kv/users.ts";
import { putCatalogEntry } from "./kv/catalog.ts";
import { putInstance } from "./kv/instances.ts";
import { createLoginLink } from "./auth/login_links.ts";
import { newId } from "./ids.ts";
import type { AppContext } from "./app_context.ts";
import type { User } from "./types.ts";
import { scheduleAction } from "./scheduler/schedule.ts";
import { ScheduleInputSchema } from "./scheduler/schemas.ts";
import { cancelActionBy } from "./scheduler/cancel_with_reason.ts";
import { applyDue } from "./apply/apply.ts";
import { embeddedController } from "./apply/embedded_controller.ts";
import { sweep } from "./notices/sweep.ts";
import { createDispatchers, createEmailSender } from "./channels/mod.ts";
import type { Config } from "./config.ts";

const HOUR = 3_600_000;

export const DEMO_TAGS = [
  { imageTag: "2026.11.1", openclawVersion: "1.8.2" },
  { imageTag: "2026.11.2", openclawVersion: "1.9.0" },
] as const;

/**
 * The bad build of the paused rollout: instances on it read unhealthy at
 * seed time, as with EMBEDDED_CONTROLLER_UNHEALTHY_TAGS.
 */
export const DEMO_BAD_BUILD = {
  imageTag: "2026.12.1",
  openclawVersion: "2.0.0",
} as const;

export interface SeedResult {
  adminEmail: string;
  userEmail: string;
  adminLink: string;
  userLink: string;
}

/** Seeds only a KV that has never been seeded and holds no users; returns null otherwise. */
export async function seedDemoData(
  kv: Deno.Kv,
  publicUrl: string,
  now = Date.now(),
  app?: Pick<AppContext, "config" | "dispatchers" | "controller">,
): Promise<SeedResult | null> {
  const marker = await kv.get(keys.meta("demo_seeded"));
  if (marker.value || (await hasAnyUser(kv))) return null;
  const claimed = await kv.atomic().check(marker).set(
    keys.meta("demo_seeded"),
    new Date(now).toISOString(),
  )
    .commit();
  if (!claimed.ok) return null;

  const admin = await putUser(kv, newId(), {
    email: "admin@kiloclaw.local",
    name: "Ada Admin",
    admin: true,
  }, now);
  const maya = await putUser(kv, newId(), {
    email: "maya@example.com",
    name: "Maya Lindqvist",
    timeZone: "Europe/Stockholm",
  }, now);
  const tom = await putUser(kv, newId(), {
    email: "tom@example.com",
    name: "Tom Okafor",
    timeZone: "America/New_York",
  }, now);
  const sam = await putUser(kv, newId(), { email: "sam@example.com" }, now);

  for (const t of [...DEMO_TAGS, DEMO_BAD_BUILD]) {
    await putCatalogEntry(kv, t.imageTag, {
      openclawVersion: t.openclawVersion,
    }, now);
  }
  const [older, newer] = DEMO_TAGS.map((t) => t.imageTag);
  const instances: Array<[string, string, string, string | null]> = [
    ["Maya's support bot", maya.id, older, null],
    ["Maya's research assistant", maya.id, older, null],
    ["Maya's pinned bot", maya.id, older, older],
    ["Tom's sales bot", tom.id, older, null],
    ["Tom's on-call helper", tom.id, newer, null],
    ["Sam's bot", sam.id, older, null],
    ["Sam's sandbox", sam.id, newer, null],
    ["Ops canary", admin.id, newer, null],
  ];
  const ids: Record<string, string> = {};
  for (const [name, ownerId, imageTag, pinnedImageTag] of instances) {
    ids[name] = newId();
    await putInstance(
      kv,
      ids[name],
      { name, ownerId, imageTag, pinnedImageTag },
      now,
    );
  }
  await addPushToken(kv, tom.id, "ExponentPushToken[demo-tom-phone]");
  if (app) await seedDemoActions(kv, app, admin, ids, now);

  return {
    adminEmail: admin.email,
    userEmail: maya.email,
    adminLink: await createLoginLink(kv, admin.id, publicUrl, now),
    userLink: await createLoginLink(kv, maya.id, publicUrl, now),
  };
}

/** Four actions played through the real scheduler, sweep and apply path (see the top). */
async function seedDemoActions(
  kv: Deno.Kv,
  app: Pick<AppContext, "config" | "dispatchers" | "controller">,
  admin: User,
  ids: Record<string, string>,
  now: number,
): Promise<void> {
  const at = (t: number) => () => t;
  const schedule = (t: number, body: Record<string, unknown>) =>
    scheduleAction(
      { kv, config: app.config, now: at(t) },
      ScheduleInputSchema.parse(body),
      admin,
      { skipPending: true },
    );
  // The outbox stamps each message with its own clock. Played at the demo's
  // past times, a message must carry the time it was sent, or the action page
  // finds no push in the notice's window and says its owner had no device.
  const dispatchersAt = (t: number) =>
    everythingToOutbox(app.config)
      ? createDispatchers({
        config: app.config,
        kv,
        email: createEmailSender(app.config, kv, at(t)),
        now: at(t),
      })
      : app.dispatchers;
  const sweepAt = (t: number) =>
    sweep({ kv, dispatchers: dispatchersAt(t), now: at(t) });

  // Applied two days ago: a restart, its notices sent an hour ahead.
  const past = now - 2 * 24 * HOUR;
  await schedule(past - 3 * HOUR, {
    actionType: "scheduled_restart",
    instanceIds: [ids["Sam's sandbox"], ids["Ops canary"]],
    scheduledAt: new Date(past).toISOString(),
    noticeLeadHours: 1,
    noticeChannels: ["email", "webapp"],
    reason: "Memory leak fix rollout",
  });
  await sweepAt(past - 59 * 60_000);
  await applyDue({ kv, controller: app.controller, now: at(past + 60_000) });

  // Called off after its notices went out: the owner got the follow-up.
  const cancelled = await schedule(now - HOUR, {
    actionType: "scheduled_restart",
    instanceIds: [ids["Tom's sales bot"], ids["Tom's on-call helper"]],
    scheduledAt: new Date(now + 30 * HOUR).toISOString(),
    noticeLeadHours: 48,
    reason: "Host maintenance",
  });
  await sweepAt(now - HOUR + 60_000);
  await cancelActionBy(
    { kv, now: at(now - 30 * 60_000) },
    cancelled.id,
    admin,
    "The host maintenance moved to next week",
  );
  await sweepAt(now - 29 * 60_000);

  // A rollout in three waves paused by its gate: the canary (Ops canary)
  // landed on a build that reads unhealthy, so no later wave starts, and
  // Sam and Tom, warned of theirs, were told it is on hold. Played with the
  // real gate and a controller that calls that build unhealthy, so the
  // demo needs no setting of its own.
  const rolloutAt = now - 20 * 60_000;
  const rollout = await schedule(now - 25 * 60_000, {
    actionType: "version_change",
    imageTag: DEMO_BAD_BUILD.imageTag,
    instanceIds: [
      ids["Ops canary"],
      ids["Sam's sandbox"],
      ids["Tom's on-call helper"],
    ],
    scheduledAt: new Date(rolloutAt).toISOString(),
    noticeLeadHours: 24,
    noticeChannels: ["email", "webapp"],
    waves: [
      { instanceIds: [ids["Ops canary"]], soakMinutes: 60 },
      { count: 1, soakMinutes: 60 },
      { percent: 100 },
    ],
    gate: { maxFailedPercent: 0, maxUnhealthyPercent: 0 },
    reason: "OpenClaw 2.0.0, canary first",
  });
  await sweepAt(now - 24 * 60_000);
  await applyDue({
    kv,
    controller: embeddedController(kv, at(rolloutAt), [
      DEMO_BAD_BUILD.imageTag,
    ]),
    now: at(rolloutAt),
    config: app.config,
    email: everythingToOutbox(app.config)
      ? createEmailSender(app.config, kv, at(rolloutAt))
      : undefined,
  });
  await sweepAt(rolloutAt + 60_000);
  if (rollout.stages.length !== 3) {
    throw new Error("the demo rollout was not planned in three waves");
  }

  // The notice window is open: Maya's banner shows on first sign-in.
  await schedule(now - 10 * 60_000, {
    actionType: "version_change",
    imageTag: DEMO_TAGS[1].imageTag,
    instanceIds: [
      ids["Maya's support bot"],
      ids["Maya's research assistant"],
      ids["Maya's pinned bot"],
      ids["Sam's bot"],
    ],
    scheduledAt: new Date(now + 3 * HOUR).toISOString(),
    noticeLeadHours: 24,
    noticeBody: "OpenClaw 1.9.0 brings faster replies and the new tools menu.",
    reason: "Security fix in OpenClaw 1.9.0",
  });
  await sweepAt(now - 9 * 60_000);
  // The last sweep is now's, as the minute job's would be: health is good from the start.
  await sweepAt(now);
}

function everythingToOutbox(config: Config): boolean {
  return !config.resendApiKey && !config.pushViaExpo && !config.sideEffectsUrl;
}
