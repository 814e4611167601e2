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
