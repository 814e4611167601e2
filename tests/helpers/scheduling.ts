/** Shared set-up for scheduler tests: a fresh KV, seeded instances, a clock. */
import { keys } from "@/lib/kv/keys.ts";
import { addNewInstanceIndexes } from "@/lib/kv/instances.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { testConfig } from "@/lib/config.ts";
import type { Instance } from "@/lib/types.ts";
import type { ScheduleDeps } from "@/lib/scheduler/schedule_checks.ts";
import type { ScheduleInput } from "@/lib/scheduler/schemas.ts";
import { ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { putUser } from "@/lib/kv/users.ts";

export const HOUR = 3_600_000;

export function rid(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A clock tests move by hand. */
export function clock(start = Date.parse("2030-01-01T00:00:00Z")) {
  let t = start;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

export function deps(kv: Deno.Kv, now: () => number): ScheduleDeps {
  return { kv, now, config: testConfig({ scheduleMinAheadSeconds: 60 }) };
}

/**
 * Seeds running instances fast: many per commit, with the owner and tag
 * indexes putInstance writes (putInstance one by one is too slow for 10,000).
 */
export async function seedInstances(
  kv: Deno.Kv,
  count: number,
  opts: Partial<Instance> & { prefix?: string } = {},
): Promise<Instance[]> {
  const prefix = opts.prefix ?? rid("inst");
  const at = new Date().toISOString();
  const list: Instance[] = Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(5, "0")}`,
    name: `claw ${i}`,
    ownerId: opts.ownerId ?? `${prefix}-owner-${i % 50}`,
    imageTag: opts.imageTag ?? "v1",
    pinnedImageTag: opts.pinnedImageTag ?? null,
    status: opts.status ?? "running",
    lastRestartAt: null,
    createdAt: at,
    updatedAt: at,
  }));
  for (let i = 0; i < list.length; i += 80) {
    const op = kv.atomic();
    for (const inst of list.slice(i, i + 80)) {
      addNewInstanceIndexes(op.set(keys.instance(inst.id), inst), inst);
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("seeding failed");
  }
  return list;
}

export async function seedCatalog(kv: Deno.Kv): Promise<void> {
  await putCatalogEntry(kv, "v1", { openclawVersion: "1.0.0" });
  await putCatalogEntry(kv, "v2", { openclawVersion: "2.0.0" });
  await putCatalogEntry(kv, "v3-retired", {
    openclawVersion: "0.9.0",
    available: false,
  });
}

/** A valid schedule body (before parsing) for `ids`, an hour after `now`. */
export function body(
  ids: string[],
  now: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    actionType: "version_change",
    imageTag: "v2",
    instanceIds: ids,
    scheduledAt: new Date(now + HOUR).toISOString(),
    ...extra,
  };
  // A restart takes no image tag (the schema is strict: not even an undefined one).
  if (
    out.actionType === "scheduled_restart" &&
    (!("imageTag" in extra) || extra.imageTag === undefined)
  ) {
    delete out.imageTag;
  }
  return out;
}

export function input(
  ids: string[],
  now: number,
  extra: Record<string, unknown> = {},
): ScheduleInput {
  return ScheduleInputSchema.parse(body(ids, now, extra));
}

/** Every key under a prefix, for "nothing was left behind" assertions. */
export async function countKeys(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

/**
 * The real KV with one fault: the `failAt`-th commit (1-based) made through it
 * throws, like a lost connection. `persistent` keeps failing from then on
 * (the process died, so no clean-up ran either).
 */
export function faultyKv(
  kv: Deno.Kv,
  failAt: number,
  persistent = false,
): Deno.Kv {
  let commits = 0;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => {
            commits++;
            if (commits === failAt || (persistent && commits > failAt)) {
              return Promise.reject(new Error("injected: connection lost"));
            }
            return commit();
          };
          return op;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/**
 * The common start of a notice test: the catalog, `count` running instances
 * whose owners exist (with an address), and one action over all of them,
 * scheduled an hour ahead unless `extra` says otherwise.
 */
export async function scheduleForOwners(
  kv: Deno.Kv,
  count: number,
  extra: Record<string, unknown> = {},
) {
  await seedCatalog(kv);
  const c = clock();
  const instances = await seedInstances(kv, count);
  for (const i of instances) {
    await putUser(kv, i.ownerId, { email: `${i.ownerId}@example.test` });
  }
  const res = await scheduleAction(
    deps(kv, c.now),
    input(instances.map((i) => i.id), c.now(), extra),
    { id: "admin" },
  );
  return { c, instances, actionId: res.id };
}

/** A test controller's health reading: every instance healthy. */
export function allHealthy(
  ids: string[],
): Promise<Record<string, "healthy">> {
  return Promise.resolve(
    Object.fromEntries(ids.map((id) => [id, "healthy" as const])),
  );
}
