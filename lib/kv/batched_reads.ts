/** Batched KV reads: `getMany` takes at most 10 keys, so larger sets go in parallel chunks. */

const GET_MANY_LIMIT = 10;
const CHUNKS_IN_FLIGHT = 16;

export async function getManyChunked<T>(
  kv: Deno.Kv,
  keyList: Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const chunks: Deno.KvKey[][] = [];
  for (let i = 0; i < keyList.length; i += GET_MANY_LIMIT) {
    chunks.push(keyList.slice(i, i + GET_MANY_LIMIT));
  }
  const out: Deno.KvEntryMaybe<T>[] = [];
  for (let i = 0; i < chunks.length; i += CHUNKS_IN_FLIGHT) {
    const results = await Promise.all(
      chunks.slice(i, i + CHUNKS_IN_FLIGHT).map((c) =>
        kv.getMany<T[]>(c) as Promise<Deno.KvEntryMaybe<T>[]>
      ),
    );
    for (const r of results) out.push(...r);
  }
  return out;
}

/** Reads each distinct key once; the map is keyed by `String(id)`. */
export async function getManyById<T>(
  kv: Deno.Kv,
  ids: Iterable<string>,
  keyOf: (id: string) => Deno.KvKey,
): Promise<Map<string, Deno.KvEntryMaybe<T>>> {
  const unique = [...new Set(ids)];
  const entries = await getManyChunked<T>(kv, unique.map(keyOf));
  return new Map(unique.map((id, i) => [id, entries[i]]));
}

/** A range read walks at most this many keys for each one asked for. */
const RANGE_SLACK = 2;
const ASCII = /^[\x20-\x7e]*$/;

/** One range read over the span of `sorted` ids, keeping the entries of `wanted` (at most `limit` keys walked). */
async function readSpan<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  sorted: string[],
  wanted: Set<string>,
  found: Map<string, Deno.KvEntry<T>>,
  limit?: number,
): Promise<void> {
  const iter = kv.list<T>({
    start: [...prefix, sorted[0]],
    // Just past the last id: end is exclusive.
    end: [...prefix, `${sorted[sorted.length - 1]}\u0000`],
  }, { limit, batchSize: Math.min(limit ?? 500, 500) });
  for await (const e of iter) {
    const id = e.key[prefix.length];
    if (
      e.key.length === prefix.length + 1 && typeof id === "string" &&
      wanted.has(id)
    ) found.set(id, e);
  }
}

/**
 * Reads `[...prefix, id]` for ids made in order (UUIDv7: rows and targets
 * written together sit side by side): one range read from the first id on,
 * then `getMany` for any id the range did not reach. Same answer as
 * `getManyChunked`, in the order of `ids`, each entry with its versionstamp.
 */
export async function getManyNearby<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  ids: string[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const wanted = new Set(ids);
  const found = new Map<string, Deno.KvEntry<T>>();
  // KV orders keys by their bytes; for ASCII ids that is the order of `sort`.
  const sorted = [...wanted].filter((id) =>
    typeof id === "string" && ASCII.test(id)
  ).sort();
  if (sorted.length > GET_MANY_LIMIT) {
    await readSpan(
      kv,
      prefix,
      sorted,
      wanted,
      found,
      sorted.length * RANGE_SLACK,
    );
  }
  const rest = [...wanted].filter((id) => !found.has(id));
  const more = await getManyChunked<T>(kv, rest.map((id) => [...prefix, id]));
  const byId = new Map<string, Deno.KvEntryMaybe<T>>(found);
  rest.forEach((id, i) => byId.set(id, more[i]));
  return ids.map((id) => byId.get(id)!);
}

/**
 * The entries among `[...prefix, id]` that exist, for keys that are few
 * (an instance's pending-target lock): one range read over the ids' span
 * instead of a read per id. Keyed by id.
 */
export async function getExistingInRange<T>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  ids: string[],
): Promise<Map<string, Deno.KvEntry<T>>> {
  const wanted = new Set(ids);
  const sorted = [...wanted].filter((id) => ASCII.test(id)).sort();
  const found = new Map<string, Deno.KvEntry<T>>();
  if (sorted.length > GET_MANY_LIMIT) {
    await readSpan(kv, prefix, sorted, wanted, found);
  }
  const rest = [...wanted].filter((id) =>
    !(sorted.length > GET_MANY_LIMIT && ASCII.test(id))
  );
  const more = await getManyChunked<T>(kv, rest.map((id) => [...prefix, id]));
  rest.forEach((id, i) => {
    const e = more[i];
    if (e.versionstamp !== null) found.set(id, e as Deno.KvEntry<T>);
  });
  return found;
}

/**
 * Reads each key once for as long as it is kept: work that starts together
 * (the groups cut from one page of due rows, one per channel, for the same
 * owners) shares one read of the records it only shows.
 */
export function sharedReads(kv: Deno.Kv) {
  const memo = new Map<string, Promise<Deno.KvEntryMaybe<unknown>>>();
  /** The entries of `ids` in order, reading (with `read`) only those not read before. */
  const once = <T>(
    ids: string[],
    keyOf: (id: string) => Deno.KvKey,
    read: (missing: string[]) => Promise<Deno.KvEntryMaybe<unknown>[]>,
  ): Promise<Deno.KvEntryMaybe<T>[]> => {
    const memoKey = (id: string) => keyOf(id).join("\u0000");
    const missing = [...new Set(ids)].filter((id) => !memo.has(memoKey(id)));
    if (missing.length) {
      const got = read(missing);
      missing.forEach((id, i) => memo.set(memoKey(id), got.then((r) => r[i])));
    }
    return Promise.all(
      ids.map((id) => memo.get(memoKey(id)) as Promise<Deno.KvEntryMaybe<T>>),
    );
  };
  return {
    /** Like `getManyById`; an id read before (or being read) is not read again. */
    async byId<T>(
      ids: Iterable<string>,
      keyOf: (id: string) => Deno.KvKey,
    ): Promise<Map<string, Deno.KvEntryMaybe<T>>> {
      const unique = [...new Set(ids)];
      const entries = await once<T>(
        unique,
        keyOf,
        (missing) => getManyChunked(kv, missing.map(keyOf)),
      );
      return new Map(unique.map((id, i) => [id, entries[i]]));
    },
    /** Like `getManyNearby`, in the order of `ids`; an id read before is not read again. */
    nearby<T>(
      prefix: Deno.KvKey,
      ids: string[],
    ): Promise<Deno.KvEntryMaybe<T>[]> {
      return once<T>(
        ids,
        (id) => [...prefix, id],
        (missing) => getManyNearby(kv, prefix, missing),
      );
    },
  };
}

export type SharedReads = ReturnType<typeof sharedReads>;
