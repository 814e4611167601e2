/**
 * The admin's instance list at any size: a name-ordered index per scope
 * (every instance, each image tag an instance runs or is pinned to, each
 * owner) and status, with a count of each. A page of `/admin`, with or
 * without a tag, owner and status filter, is then one short range read and
 * a few counters, not a walk of every instance record.
 *
 * `instanceListWrites` keeps both in the same atomic operation as the
 * instance record (`lib/kv/instances.ts` calls it on every write). A
 * database from before the index is indexed once, as the app starts
 * (`ensureInstanceList`; the readers walk the records until then): the keys
 * under a check of each record, then each count set from its keys under a
 * check of the count, so a write meanwhile makes it count again rather
 * than count wrong.
 */
import { keys, type ListScope } from "./keys.ts";
import { getManyChunked } from "./batched_reads.ts";
import { commitRetrying } from "./db.ts";
import type { Instance, InstanceStatus } from "../types.ts";

const LISTED_STATUSES: readonly InstanceStatus[] = [
  "running",
  "destroyed",
];

export type { ListScope };

/** KV's `sum` wraps around at 2^64: adding 2^64 − 1 takes one away. */
const MINUS_ONE = (1n << 64n) - 1n;

/**
 * The order of the list: the name without case or accents, then the id.
 * KV keys sort by their bytes, so the order is made part of the key.
 */
function nameOrder(name: string): string {
  return name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** A place in the list: its name order, then its id, as the keys sort. */
interface Place {
  order: string;
  id: string;
}

const byPlace = (a: Place, b: Place): number =>
  a.order !== b.order
    ? (a.order < b.order ? -1 : 1)
    : (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Compares instances as the list orders them. */
export function byListOrder(
  a: Pick<Instance, "name" | "id">,
  b: Pick<Instance, "name" | "id">,
): number {
  return byPlace(
    { order: nameOrder(a.name), id: a.id },
    { order: nameOrder(b.name), id: b.id },
  );
}

function scopesOf(i: Instance): ListScope[] {
  const out: ListScope[] = [
    { all: true },
    { tag: i.imageTag },
    { owner: i.ownerId },
  ];
  if (i.pinnedImageTag && i.pinnedImageTag !== i.imageTag) {
    out.push({ pinned: i.pinnedImageTag });
  }
  return out;
}

/** One status of one scope's list. */
export interface ListRange {
  scope: ListScope;
  status: InstanceStatus;
}

/**
 * The ranges a filter reads (a tag, or an owner, not both): a tag's
 * instances are those running it and those pinned to it (two lists that
 * never share an instance); no status means both.
 */
export function rangesOf(
  f: { tag?: string; ownerId?: string; status?: InstanceStatus | "" },
): ListRange[] {
  if (f.tag && f.ownerId !== undefined) {
    throw new Error("the list has no range for a tag and an owner at once");
  }
  const scopes: ListScope[] = f.tag
    ? [{ tag: f.tag }, { pinned: f.tag }]
    : f.ownerId !== undefined
    ? [{ owner: f.ownerId }]
    : [{ all: true }];
  const statuses = f.status ? [f.status] : LISTED_STATUSES;
  return scopes.flatMap((scope) =>
    statuses.map((status) => ({ scope, status }))
  );
}

/** The list keys of an instance as it is now. */
function listKeysOf(i: Instance): Deno.KvKey[] {
  const order = nameOrder(i.name);
  return scopesOf(i).map((s) => keys.instanceListed(s, i.status, order, i.id));
}

/** The counts an instance is in. */
function countKeysOf(i: Instance): Deno.KvKey[] {
  return scopesOf(i).map((s) => keys.instanceListCount(s, i.status));
}

function diff(a: Deno.KvKey[], b: Deno.KvKey[]): Deno.KvKey[] {
  const seen = new Set(b.map((k) => JSON.stringify(k)));
  return a.filter((k) => !seen.has(JSON.stringify(k)));
}

/** KV writes `instanceListWrites` adds at most (four keys out, four in, eight counts). */
export const INSTANCE_LIST_MUTATIONS = 16;

/**
 * The list's shape: a database whose list was built for an older one is
 * indexed again (version 2 added each owner's list).
 */
const INSTANCE_LIST_VERSION = 2;

/** Moves the instance's list keys and counts from `prev` (null: new) to `next`. */
export function instanceListWrites(
  op: Deno.AtomicOperation,
  prev: Instance | null,
  next: Instance,
): Deno.AtomicOperation {
  const before = prev ? listKeysOf(prev) : [];
  const after = listKeysOf(next);
  for (const k of diff(before, after)) op.delete(k);
  for (const k of diff(after, before)) op.set(k, null);
  const countsBefore = prev ? countKeysOf(prev) : [];
  const countsAfter = countKeysOf(next);
  for (const k of diff(countsBefore, countsAfter)) op.sum(k, MINUS_ONE);
  for (const k of diff(countsAfter, countsBefore)) op.sum(k, 1n);
  return op;
}

/** How many instances the ranges hold: a few counter reads. */
export async function countListed(
  kv: Deno.Kv,
  ranges: ListRange[],
): Promise<number> {
  return (await countListedEach(kv, [ranges]))[0];
}

/** `countListed` for many filters at once, in as few reads as KV allows. */
export async function countListedEach(
  kv: Deno.Kv,
  each: ListRange[][],
): Promise<number[]> {
  const got = await getManyChunked<Deno.KvU64>(
    kv,
    each.flat().map((r) => keys.instanceListCount(r.scope, r.status)),
  );
  let at = 0;
  return each.map((ranges) =>
    ranges.reduce((n) => {
      const e = got[at++];
      return n + (e.value ? Number(e.value.value) : 0);
    }, 0)
  );
}

/**
 * The ids of the instances in places `from` to `from + count` of the ranges
 * taken together, in the list's order: each range is read up to there, in
 * order, and the ranges merged.
 */
export async function listedIds(
  kv: Deno.Kv,
  ranges: ListRange[],
  from: number,
  count: number,
): Promise<string[]> {
  const limit = from + count;
  if (count <= 0) return [];
  const parts = await Promise.all(ranges.map(async (r) => {
    const out: Place[] = [];
    for await (
      const e of kv.list({ prefix: keys.instancesListed(r.scope, r.status) }, {
        limit,
        batchSize: Math.min(limit, 1000),
      })
    ) {
      out.push({
        order: e.key[e.key.length - 2] as string,
        id: e.key[e.key.length - 1] as string,
      });
    }
    return out;
  }));
  return parts.flat().sort(byPlace).slice(from, limit).map((e) => e.id);
}

/** The ids the ranges hold, up to `limit`, in no set order. */
export async function allListedIds(
  kv: Deno.Kv,
  ranges: ListRange[],
  limit: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const r of ranges) {
    if (ids.length >= limit) break;
    for await (
      const e of kv.list({ prefix: keys.instancesListed(r.scope, r.status) }, {
        limit: limit - ids.length,
        batchSize: 1000,
      })
    ) ids.push(e.key[e.key.length - 1] as string);
  }
  return ids;
}

/** Instances checked and indexed in one commit (one check and up to four keys each). */
const INDEX_CHUNK = 60;

/** One run of the indexing at a time per database handle in this process. */
const indexing = new WeakMap<Deno.Kv, Promise<void>>();

/** Whether the list index covers every instance (one read); until it does, readers walk the records. */
export async function instanceListReady(kv: Deno.Kv): Promise<boolean> {
  const marker = await kv.get<{ version?: number }>(keys.instanceListReady());
  return marker.value !== null &&
    (marker.value.version ?? 1) >= INSTANCE_LIST_VERSION;
}

/**
 * Makes sure the list index covers every instance: at once when it does
 * (one read), else indexes the database once (see the header). The app
 * calls it as it starts, and the minute apply tick after.
 */
export async function ensureInstanceList(kv: Deno.Kv): Promise<void> {
  if (await instanceListReady(kv)) return;
  let run = indexing.get(kv);
  if (!run) {
    run = indexAll(kv).finally(() => indexing.delete(kv));
    indexing.set(kv, run);
  }
  await run;
}

async function indexAll(kv: Deno.Kv): Promise<void> {
  // The keys: each instance's under a check of its record; a record that
  // changed meanwhile was indexed by its writer.
  let chunk: Deno.KvEntry<Instance>[] = [];
  const flush = async () => {
    for (let attempt = 0; chunk.length; attempt++) {
      const res = await commitRetrying(() => {
        const op = kv.atomic();
        for (const e of chunk) {
          op.check(e);
          for (const k of listKeysOf(e.value)) op.set(k, null);
        }
        return op;
      });
      if (res.ok) break;
      if (attempt >= 20) throw new Error("instances keep changing");
      // Read the part again and index what it holds now.
      const fresh = await getManyChunked<Instance>(kv, chunk.map((e) => e.key));
      chunk = fresh.filter((e): e is Deno.KvEntry<Instance> => !!e.value);
    }
    chunk = [];
  };
  for await (
    const e of kv.list<Instance>({ prefix: keys.instances() }, {
      batchSize: 500,
    })
  ) {
    chunk.push(e);
    if (chunk.length === INDEX_CHUNK) await flush();
  }
  if (chunk.length) await flush();
  // The counts: read, then counted from the keys, then set under a check of
  // what was read; a writer in between changed the count, so count again.
  for (let attempt = 0;; attempt++) {
    const stale = await setCountsFromKeys(kv);
    if (stale === 0) break;
    if (attempt >= 20) {
      throw new Error("instances keep changing: the list's counts are not set");
    }
  }
  await commitRetrying(() =>
    kv.atomic().set(keys.instanceListReady(), {
      version: INSTANCE_LIST_VERSION,
      at: new Date().toISOString(),
    })
  );
}

/** Sets every count to the keys it counts; answers how many could not be set. */
async function setCountsFromKeys(kv: Deno.Kv): Promise<number> {
  const before = new Map<string, Deno.KvEntryMaybe<Deno.KvU64>>();
  for await (
    const e of kv.list<Deno.KvU64>({ prefix: keys.instanceListCounts() })
  ) before.set(JSON.stringify(e.key), e);
  const counted = new Map<string, { key: Deno.KvKey; n: number }>();
  for await (
    const e of kv.list({ prefix: keys.instancesListedAll() }, {
      batchSize: 1000,
    })
  ) {
    // ["instances_listed", ...scope, status, order, id]
    const key = keys.instanceListCountFromListed(e.key);
    const id = JSON.stringify(key);
    const c = counted.get(id) ?? { key, n: 0 };
    c.n++;
    counted.set(id, c);
  }
  for (const [id, e] of before) {
    if (!counted.has(id)) counted.set(id, { key: e.key, n: 0 });
  }
  let stale = 0;
  for (const [id, { key, n }] of counted) {
    const res = await commitRetrying(() =>
      kv.atomic()
        .check({ key, versionstamp: before.get(id)?.versionstamp ?? null })
        .set(key, new Deno.KvU64(BigInt(n)))
    );
    if (!res.ok) stale++;
  }
  return stale;
}
