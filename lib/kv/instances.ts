/** Instances: records and their owner and image-tag indexes. */
import { z } from "zod";
import { keys } from "./keys.ts";
import { conditionalWrite } from "./conditional_write.ts";
import { getManyById, getManyNearby } from "./batched_reads.ts";
import {
  allListedIds,
  byListOrder,
  countListed,
  instanceListReady,
  instanceListWrites,
  listedIds,
  rangesOf,
} from "./instance_list.ts";
import { NotFoundError } from "../errors.ts";
import { addAuditWrite } from "./audit.ts";
import { ImageTagSchema } from "./catalog.ts";
import { IdSchema } from "../ids.ts";
import { textField } from "../text.ts";
import type { AuditEntry, Instance, InstanceStatus } from "../types.ts";

/** `PUT /api/admin/instances/:id`. */
export const InstancePutSchema = z.strictObject({
  name: textField({ min: 1, max: 120 }),
  ownerId: IdSchema,
  imageTag: ImageTagSchema,
  pinnedImageTag: ImageTagSchema.nullish(),
  status: z.enum(["running", "destroyed"]).optional(),
});

export async function getInstance(
  kv: Deno.Kv,
  id: string,
): Promise<Instance | null> {
  return (await kv.get<Instance>(keys.instance(id))).value;
}

/** Reads many instances by id; missing ones are absent from the map. */
export async function getInstances(
  kv: Deno.Kv,
  ids: string[],
): Promise<Map<string, Instance>> {
  const out = new Map<string, Instance>();
  // A tag's instances lie side by side in id order: range reads find them.
  // In parts, so a tag of 100,000 never holds all its raw entries at once.
  for (let i = 0; i < ids.length; i += READ_PART) {
    const got = await getManyNearby<Instance>(
      kv,
      keys.instances(),
      ids.slice(i, i + READ_PART),
    );
    for (const e of got) if (e.value !== null) out.set(e.value.id, e.value);
  }
  return out;
}

/** Instances read in one range at most. */
const READ_PART = 2_000;

export interface InstanceInput {
  name: string;
  ownerId: string;
  imageTag: string;
  pinnedImageTag?: string | null;
  status?: InstanceStatus;
}

function indexWrites(
  op: Deno.AtomicOperation,
  prev: Instance | null,
  next: Instance,
) {
  if (prev && prev.ownerId !== next.ownerId) {
    op.delete(keys.instanceByOwner(prev.ownerId, prev.id));
  }
  if (prev && prev.imageTag !== next.imageTag) {
    op.delete(keys.instanceByTag(prev.imageTag, prev.id));
  }
  op.set(keys.instanceByOwner(next.ownerId, next.id), null);
  op.set(keys.instanceByTag(next.imageTag, next.id), null);
  instanceListWrites(op, prev, next);
}

/** Adds to `op` the index keys of a new instance written there by hand (seeding, imports). */
export function addNewInstanceIndexes(
  op: Deno.AtomicOperation,
  next: Instance,
): Deno.AtomicOperation {
  indexWrites(op, null, next);
  return op;
}

/** Creates or replaces an instance (the admin `PUT`). */
export async function putInstance(
  kv: Deno.Kv,
  id: string,
  input: InstanceInput,
  now = Date.now(),
  /** The audit entry of this change, written in the same atomic operation. */
  audit?: (prev: Instance | null, next: Instance) => AuditEntry,
): Promise<Instance> {
  return await conditionalWrite(`instance ${id}`, async () => {
    const cur = await kv.get<Instance>(keys.instance(id));
    const prev = cur.value;
    const at = new Date(now).toISOString();
    const next: Instance = {
      id,
      name: input.name,
      ownerId: input.ownerId,
      imageTag: input.imageTag,
      pinnedImageTag: input.pinnedImageTag === undefined
        ? prev?.pinnedImageTag ?? null
        : input.pinnedImageTag,
      status: input.status ?? prev?.status ?? "running",
      lastRestartAt: prev?.lastRestartAt ?? null,
      createdAt: prev?.createdAt ?? at,
      updatedAt: at,
    };
    return {
      write: () => {
        const op = kv.atomic().check(cur).set(keys.instance(id), next);
        indexWrites(op, prev, next);
        if (audit) addAuditWrite(op, audit(prev, next));
        return op;
      },
      result: next,
    };
  });
}

/**
 * Adds to `op` the write of a changed instance, with its index moves. The
 * caller checks `cur` (the entry it read) in the same operation.
 */
export function addInstanceUpdate(
  op: Deno.AtomicOperation,
  cur: Deno.KvEntry<Instance>,
  next: Instance,
): Deno.AtomicOperation {
  op.check(cur).set(keys.instance(next.id), next);
  indexWrites(op, cur.value, next);
  return op;
}

/** Applies `change` under an optimistic check, retrying on conflict. */
export async function updateInstance(
  kv: Deno.Kv,
  id: string,
  change: (i: Instance) => Instance,
): Promise<Instance> {
  return await conditionalWrite(`instance ${id}`, async () => {
    const cur = await kv.get<Instance>(keys.instance(id));
    if (!cur.value) throw new NotFoundError(`instance ${id} not found`);
    const next = change(cur.value);
    return {
      write: () =>
        addInstanceUpdate(kv.atomic(), cur as Deno.KvEntry<Instance>, next),
      result: next,
    };
  });
}

/** Ids of every running instance on a tag (the `selector` of a schedule). */
export async function listRunningInstancesByTag(
  kv: Deno.Kv,
  imageTag: string,
): Promise<Instance[]> {
  const ids: string[] = [];
  const index = kv.list({ prefix: keys.instancesByTag(imageTag) }, {
    batchSize: 1000,
  });
  for await (const e of index) ids.push(e.key[2] as string);
  const found = await getInstances(kv, ids);
  return ids.flatMap((id) => {
    const i = found.get(id);
    return i?.status === "running" ? [i] : [];
  });
}

/** Instances per page unless asked otherwise, and the most a page may hold. */
export const INSTANCE_PAGE_SIZE = 25;
export const MAX_INSTANCE_PAGE_SIZE = 200;
/** Instances read from KV at a time while searching. */
const SCAN_CHUNK = 100;

export interface InstancePage {
  items: Instance[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
}

/**
 * How many instances a user owns, counting at most `cap + 1` so one owner of
 * thousands costs no more: what the users page shows before the instance
 * list (whose counts are exact) is built.
 */
export async function countInstancesOfOwner(
  kv: Deno.Kv,
  ownerId: string,
  cap: number,
): Promise<number> {
  let n = 0;
  for await (
    const _ of kv.list({ prefix: keys.instancesByOwner(ownerId) }, {
      limit: cap + 1,
    })
  ) n++;
  return n;
}

/** Every instance, or every one of an owner or on a tag, a chunk at a time. */
async function* instanceChunks(
  kv: Deno.Kv,
  of: { ownerId: string } | { imageTag: string } | null,
): AsyncGenerator<Instance[]> {
  if (of) {
    const prefix = "ownerId" in of
      ? keys.instancesByOwner(of.ownerId)
      : keys.instancesByTag(of.imageTag);
    let ids: string[] = [];
    for await (const e of kv.list({ prefix }, { batchSize: SCAN_CHUNK })) {
      ids.push(e.key[2] as string);
      if (ids.length === SCAN_CHUNK) {
        yield [...(await getInstances(kv, ids)).values()];
        ids = [];
      }
    }
    if (ids.length) yield [...(await getInstances(kv, ids)).values()];
    return;
  }
  let chunk: Instance[] = [];
  for await (
    const e of kv.list<Instance>({ prefix: keys.instances() }, {
      batchSize: SCAN_CHUNK,
    })
  ) {
    chunk.push(e.value);
    if (chunk.length === SCAN_CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

/** How many running instances run a tag: one counter read (a walk of the tag's records before the list index is built). */
export async function countRunningInstancesByTag(
  kv: Deno.Kv,
  imageTag: string,
): Promise<number> {
  if (await instanceListReady(kv)) {
    return await countListed(kv, [{
      scope: { tag: imageTag },
      status: "running",
    }]);
  }
  let n = 0;
  for await (const chunk of instanceChunks(kv, { imageTag })) {
    n += chunk.filter((i) => i.status === "running").length;
  }
  return n;
}

/**
 * The admin list's filters: `query` is text in the name, id, tag, owner id,
 * or owner's email or name; `tag` the current or pinned image tag; `ownerId`
 * and `status` exact.
 */
export interface InstanceFilter {
  query?: string;
  tag?: string;
  ownerId?: string;
  status?: InstanceStatus | "";
}

/** The instances the filter lets through, a chunk at a time. */
async function* matchingChunks(
  kv: Deno.Kv,
  f: InstanceFilter,
): AsyncGenerator<Instance[]> {
  const q = (f.query ?? "").trim().toLowerCase();
  const of = f.ownerId !== undefined ? { ownerId: f.ownerId } : null;
  // Across every owner, the owners the text names are found once, in one
  // range read of the users; within one owner's instances, per chunk.
  const named = q && !of ? await ownersNamed(kv, q) : null;
  for await (const chunk of instanceChunks(kv, of)) {
    const owners = q && !named ? await ownerLabels(kv, chunk) : null;
    yield chunk.filter((i) =>
      (!f.tag || i.imageTag === f.tag || i.pinnedImageTag === f.tag) &&
      (!f.status || i.status === f.status) &&
      (!q ||
        (named
          ? named.has(i.ownerId)
          : (owners!.get(i.ownerId) ?? "").toLowerCase().includes(q)) ||
        [
          i.name,
          i.id,
          i.imageTag,
          i.pinnedImageTag ?? "",
          i.ownerId,
        ].some((s) => s.toLowerCase().includes(q)))
    );
  }
}

/** The ids of the users whose "name <email>" holds `q` (lower case). */
async function ownersNamed(kv: Deno.Kv, q: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (
    const e of kv.list<{ id: string; email: string; name: string | null }>(
      { prefix: keys.users() },
      { batchSize: 1000 },
    )
  ) {
    const label = `${e.value.name ?? ""} <${e.value.email}>`.toLowerCase();
    if (label.includes(q)) out.add(e.key[1] as string);
  }
  return out;
}

/** A filter the list index answers (no text to search; a tag or an owner, not both), once it is built. */
async function listable(kv: Deno.Kv, f: InstanceFilter): Promise<boolean> {
  return !(f.query ?? "").trim() && !(f.tag && f.ownerId !== undefined) &&
    await instanceListReady(kv);
}

type SortKey = Pick<Instance, "name" | "id">;

/**
 * The admin table, and a user's own list: every instance the filter lets
 * through (a user's list is the filter `ownerId`), in name order (without
 * case or accents; `nameOrder`), one page at a time.
 *
 * Without a text to search (and not a tag and an owner at once), the page
 * comes from the list index (lib/kv/instance_list.ts): its counts and one
 * range read, for any number of instances. A text search walks the
 * instances a chunk at a time and keeps only the sort keys of the best
 * `page × pageSize` matches, so memory follows the page asked for, not the
 * instances stored.
 */
export async function searchInstances(
  kv: Deno.Kv,
  opts: InstanceFilter & { page?: number; pageSize?: number },
): Promise<InstancePage> {
  const pageSize = Math.min(
    Math.max(1, Math.floor(opts.pageSize ?? INSTANCE_PAGE_SIZE)),
    MAX_INSTANCE_PAGE_SIZE,
  );
  const wanted = Math.max(1, Math.floor(opts.page ?? 1) || 1);
  const pagesOf = (n: number) => Math.max(1, Math.ceil(n / pageSize));
  let total = 0;
  let page = wanted;
  let window: string[];
  if (await listable(kv, opts)) {
    const ranges = rangesOf(opts);
    total = await countListed(kv, ranges);
    page = Math.min(wanted, pagesOf(total));
    window = await listedIds(kv, ranges, (page - 1) * pageSize, pageSize);
  } else {
    const keep = wanted * pageSize;
    let best: SortKey[] = [];
    for await (const chunk of matchingChunks(kv, opts)) {
      for (const i of chunk) {
        total++;
        best.push({ name: i.name, id: i.id });
        if (best.length >= 2 * keep + SCAN_CHUNK) {
          best = best.sort(byListOrder).slice(0, keep);
        }
      }
    }
    best.sort(byListOrder);
    page = Math.min(wanted, pagesOf(total));
    window = best.slice((page - 1) * pageSize, page * pageSize).map((k) =>
      k.id
    );
  }
  const found = await getInstances(kv, window);
  return {
    items: window.map((id) => found.get(id)).filter((i): i is Instance =>
      i !== undefined
    ),
    total,
    page,
    pageSize,
    pages: pagesOf(total),
  };
}

/**
 * The ids of the instances the filter lets through ("select all N
 * matching"): at most `limit` of them, and how many matched in all.
 */
export async function matchingInstanceIds(
  kv: Deno.Kv,
  filter: InstanceFilter,
  limit: number,
): Promise<{ ids: string[]; total: number }> {
  if (await listable(kv, filter)) {
    const ranges = rangesOf(filter);
    const [ids, total] = await Promise.all([
      allListedIds(kv, ranges, limit),
      countListed(kv, ranges),
    ]);
    return { ids, total };
  }
  const ids: string[] = [];
  let total = 0;
  for await (const chunk of matchingChunks(kv, filter)) {
    for (const i of chunk) {
      if (ids.length < limit) ids.push(i.id);
      total++;
    }
  }
  return { ids, total };
}

/** "name <email>" of each owner of a chunk, read together (at most one chunk's worth in memory). */
async function ownerLabels(
  kv: Deno.Kv,
  chunk: Instance[],
): Promise<Map<string, string>> {
  const users = await getManyById<{ email: string; name: string | null }>(
    kv,
    chunk.map((i) => i.ownerId),
    (id) => keys.user(id),
  );
  const out = new Map<string, string>();
  for (const [id, e] of users) {
    if (e.value) out.set(id, `${e.value.name ?? ""} <${e.value.email}>`);
  }
  return out;
}
