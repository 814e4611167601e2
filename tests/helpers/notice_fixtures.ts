/**
 * Test fixtures for the notice engine: users, instances and actions written
 * into a real in-memory KV by the scheduler's own write path, and the
 * scheduler's own cancel and apply, called with a chosen clock.
 */
import { keys } from "@/lib/kv/keys.ts";
import { commitRetrying } from "@/lib/kv/db.ts";
import { putUser } from "@/lib/kv/users.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { addNewRow, buildNoticeRows } from "@/lib/notices/rows.ts";
import { writeAction } from "@/lib/scheduler/action_write.ts";
import { claimGroup } from "@/lib/notices/claim.ts";
import { cancelAction, cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { newId } from "@/lib/ids.ts";
import { makeAction, makeStage, makeTarget } from "./records.ts";
import type {
  ActionType,
  Channel,
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "@/lib/types.ts";

export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export interface Seeded {
  action: ScheduledAction;
  stage: Stage;
  targets: Target[];
  rows: Notification[];
  userIds: string[];
}

export interface SeedOptions {
  now: number;
  instances?: number;
  scheduledAt?: number;
  leadHours?: number;
  notify?: boolean;
  channels?: Channel[];
  actionType?: ActionType;
  /** Write the users (default true); false leaves the rows' users missing. */
  users?: boolean;
  /** Write the action record (default true); false is a write in progress. */
  visible?: boolean;
}

/** An action over fresh instances (each with its own owner), written the way the scheduler does. */
export async function seedAction(
  kv: Deno.Kv,
  o: SeedOptions,
): Promise<Seeded> {
  const n = o.instances ?? 1;
  const actionType = o.actionType ?? "scheduled_restart";
  const tag = `tag-${newId().slice(-8)}`;
  if (actionType === "version_change") {
    await putCatalogEntry(kv, `${tag}-new`, { openclawVersion: "9.9.9" });
  }
  const action = makeAction({
    actionType,
    imageTag: actionType === "version_change" ? `${tag}-new` : null,
    notify: o.notify ?? true,
    noticeLeadHours: o.leadHours ?? 1,
    noticeChannels: o.channels ?? ["email", "webapp", "mobile_push"],
  }, o.now);
  const stage = makeStage(action, o.scheduledAt ?? o.now + HOUR);
  const targets: Target[] = [];
  const rows: Notification[] = [];
  const userIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const userId = `u-${newId()}`;
    const instanceId = `i-${newId()}`;
    userIds.push(userId);
    if (o.users ?? true) {
      await putUser(kv, userId, { email: `${userId}@example.test` }, o.now);
    }
    await putInstance(kv, instanceId, {
      name: `claw ${i}`,
      ownerId: userId,
      imageTag: tag,
    }, o.now);
    const target = makeTarget(action, {
      instanceId,
      userId,
      sourceImageTag: tag,
    });
    targets.push(target);
    rows.push(...buildNoticeRows(action, stage, target, o.now));
  }
  if (o.visible ?? true) {
    const sorted = [...targets].sort((a, b) =>
      a.instanceId.localeCompare(b.instanceId)
    );
    await writeAction(
      kv,
      { action, stages: [stage], targets: sorted, rows },
      o.now,
    );
  } else {
    // A schedule write still in progress: targets and rows, no action record yet.
    for (let i = 0; i < targets.length; i += 50) {
      await commitRetrying(() => {
        const op = kv.atomic();
        for (const t of targets.slice(i, i + 50)) {
          op.set(keys.target(t.id), t)
            .set(keys.instancePendingTarget(t.instanceId), {
              actionId: action.id,
              targetId: t.id,
            })
            .set(keys.targetByAction(action.id, t.id), null);
        }
        return op;
      });
    }
    for (let i = 0; i < rows.length; i += 90) {
      const res = await commitRetrying(() => {
        const op = kv.atomic();
        for (const r of rows.slice(i, i + 90)) addNewRow(op, r);
        return op;
      });
      if (!res.ok) throw new Error("seeding rows failed");
    }
  }
  return { action, stage, targets, rows, userIds };
}

export async function getRow(kv: Deno.Kv, id: string): Promise<Notification> {
  const row = (await kv.get<Notification>(keys.notification(id))).value;
  if (!row) throw new Error(`row ${id} missing`);
  return row;
}

export async function getRows(
  kv: Deno.Kv,
  ids: string[],
): Promise<Notification[]> {
  return await Promise.all(ids.map((id) => getRow(kv, id)));
}

/** The scheduler's per-target cancel, at `now`. */
export async function cancelTargetAt(
  kv: Deno.Kv,
  seeded: Seeded,
  targetId: string,
  now: number,
): Promise<void> {
  await cancelTarget({ kv, now: () => now }, seeded.action.id, targetId);
}

/** The scheduler's whole cancel, at `now`. */
export async function cancelActionAt(
  kv: Deno.Kv,
  seeded: Seeded,
  now: number,
): Promise<void> {
  await cancelAction({ kv, now: () => now }, seeded.action.id);
}

/** The scheduler's minute apply at `now`, with the embedded controller. */
export function applyAt(kv: Deno.Kv, now: number) {
  return applyTick({
    kv,
    controller: embeddedController(kv, () => now),
    now: () => now,
  });
}

/** Counts keys under a prefix (test-sized data only). */
export async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey) {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

/**
 * The same KV, except for commits of operations that set a key `matches`
 * picks: while `times` lasts, such a commit first awaits `before` (a racing
 * writer's turn), then throws `error` if given, else goes through.
 */
export function interceptCommits(
  kv: Deno.Kv,
  matches: (key: Deno.KvKey, value: unknown) => boolean,
  opts: {
    times?: number;
    error?: string;
    before?: () => Promise<void>;
    /** Decides per matching commit whether this one is intercepted (default: all). */
    pick?: () => boolean;
  } = {},
): { kv: Deno.Kv; hits: () => number } {
  let left = opts.times ?? Infinity;
  let hits = 0;
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    let hit = false;
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "set") {
          return (
            key: Deno.KvKey,
            value: unknown,
            o?: { expireIn?: number },
          ) => {
            hit ||= matches(key, value);
            target.set(key, value, o);
            return proxy;
          };
        }
        if (prop === "commit") {
          return async () => {
            if (hit && left > 0 && (opts.pick?.() ?? true)) {
              left--;
              hits++;
              if (opts.before) await opts.before();
              if (opts.error) throw new TypeError(opts.error);
            }
            return await target.commit();
          };
        }
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          (v as (...a: unknown[]) => unknown).apply(target, args);
          return proxy;
        };
      },
    });
    return proxy;
  };
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapOp(target.atomic());
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { kv: wrapped, hits: () => hits };
}

/** Is this write a notification row moving to `status`? */
export const rowTo =
  (status: Notification["status"], id?: string) =>
  (key: Deno.KvKey, value: unknown) =>
    key[0] === "notifications" &&
    (value as Notification | null)?.status === status &&
    (id === undefined || key[1] === id);

/** A sweep's claim of these rows as one new group, through the engine's own claim; null when nothing was held. */
export async function claimRows(
  kv: Deno.Kv,
  channel: Channel,
  rows: Notification[],
  o: { now: number; leaseMs: number },
) {
  const entries = (await Promise.all(
    rows.map((r) => kv.get<Notification>(keys.notification(r.id))),
  )) as Deno.KvEntry<Notification>[];
  const tally = {
    claimsLost: 0,
    processed: 0,
    failed: 0,
    voidedStale: 0,
    deferred: 0,
  };
  return await claimGroup(kv, { channel, group: null, rows: entries }, {
    ...o,
    tally,
  });
}
