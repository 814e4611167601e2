/** Instances: records and their owner and image-tag indexes. */
import { keys } from "./keys.ts";
import { commitRetrying } from "./db.ts";
import { getManyChunked } from "./read.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { Instance, InstanceStatus } from "../types.ts";

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
  const got = await getManyChunked<Instance>(
    kv,
    ids.map((id) => keys.instance(id)),
  );
  return new Map(
    got.filter((e) => e.value !== null).map((e) => [e.value!.id, e.value!]),
  );
}

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
}

/** Creates or replaces an instance (the admin `PUT`). */
export async function putInstance(
  kv: Deno.Kv,
  id: string,
  input: InstanceInput,
  now = Date.now(),
): Promise<Instance> {
  for (let attempt = 0; attempt < 10; attempt++) {
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
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(cur).set(keys.instance(id), next);
      indexWrites(op, prev, next);
      return op;
    });
    if (res.ok) return next;
  }
  throw new ConflictError(
    `instance ${id} is being changed by another request; try again`,
  );
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
  for (let attempt = 0; attempt < 10; attempt++) {
    const cur = await kv.get<Instance>(keys.instance(id));
    if (!cur.value) throw new NotFoundError(`instance ${id} not found`);
    const next = change(cur.value);
    const res = await commitRetrying(() =>
      addInstanceUpdate(kv.atomic(), cur as Deno.KvEntry<Instance>, next)
    );
    if (res.ok) return next;
  }
  throw new ConflictError(
    `instance ${id} is being changed by another request; try again`,
  );
}

export async function listInstancesByOwner(
  kv: Deno.Kv,
  ownerId: string,
): Promise<Instance[]> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: keys.instancesByOwner(ownerId) })) {
    ids.push(e.key[2] as string);
  }
  const found = await getInstances(kv, ids);
  return ids.map((id) => found.get(id)).filter((i): i is Instance =>
    i !== undefined
  );
}

/** Ids of every running instance on a tag (the `selector` of a schedule). */
export async function listRunningInstanceIdsByTag(
  kv: Deno.Kv,
  imageTag: string,
): Promise<string[]> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: keys.instancesByTag(imageTag) })) {
    ids.push(e.key[2] as string);
  }
  const found = await getInstances(kv, ids);
  return ids.filter((id) => found.get(id)?.status === "running");
}

export interface InstancePage {
  items: Instance[];
  total: number;
  page: number;
  pageSize: number;
  pages: number;
}

/** The admin list's filters: text in name, id, owner or tag; exact tag, owner and status. */
export interface InstanceFilter {
  query?: string;
  /** Current or pinned image tag. */
  tag?: string;
  ownerId?: string;
  status?: InstanceStatus | "";
  ownerLabel?: (ownerId: string) => string;
}

async function filterInstances(
  kv: Deno.Kv,
  f: InstanceFilter,
): Promise<Instance[]> {
  const q = (f.query ?? "").trim().toLowerCase();
  const all: Instance[] = [];
  for await (const e of kv.list<Instance>({ prefix: keys.instances() })) {
    const i = e.value;
    if (f.tag && i.imageTag !== f.tag && i.pinnedImageTag !== f.tag) continue;
    if (f.ownerId && i.ownerId !== f.ownerId) continue;
    if (f.status && i.status !== f.status) continue;
    if (
      !q ||
      [
        i.name,
        i.id,
        i.imageTag,
        i.pinnedImageTag ?? "",
        i.ownerId,
        f.ownerLabel?.(i.ownerId) ?? "",
      ]
        .some((s) => s.toLowerCase().includes(q))
    ) all.push(i);
  }
  all.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return all;
}

/**
 * The admin table: every instance the filter lets through, sorted by name,
 * one page at a time.
 */
export async function searchInstances(
  kv: Deno.Kv,
  opts: InstanceFilter & { page?: number; pageSize?: number },
): Promise<InstancePage> {
  const pageSize = opts.pageSize ?? 25;
  const all = await filterInstances(kv, opts);
  const pages = Math.max(1, Math.ceil(all.length / pageSize));
  const page = Math.min(Math.max(1, opts.page ?? 1), pages);
  return {
    items: all.slice((page - 1) * pageSize, page * pageSize),
    total: all.length,
    page,
    pageSize,
    pages,
  };
}

/** Every instance the filter lets through ("select all N matching"). */
export async function listMatchingInstances(
  kv: Deno.Kv,
  filter: InstanceFilter,
): Promise<Instance[]> {
  return await filterInstances(kv, filter);
}
