/** Runs `fn` with a fresh in-memory KV, closed afterwards whatever happens. */
export async function withKv<T>(fn: (kv: Deno.Kv) => Promise<T>): Promise<T> {
  const kv = await Deno.openKv(":memory:");
  try {
    return await fn(kv);
  } finally {
    kv.close();
  }
}

type CommitResult = Deno.KvCommitResult | Deno.KvCommitError;

/**
 * The KV with every commit made through it passed to `around`, which sends
 * it by calling `commit`; `sets` are the keys and values the commit sets (a
 * test acts before a given commit, a fault worker stops around them).
 */
export function aroundCommits(
  kv: Deno.Kv,
  around: (
    commit: () => Promise<CommitResult>,
    sets: readonly [Deno.KvKey, unknown][],
  ) => Promise<CommitResult>,
): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const sets: [Deno.KvKey, unknown][] = [];
          const set = op.set.bind(op);
          op.set = (key, value, options) => {
            sets.push([key, value]);
            return set(key, value, options);
          };
          const commit = op.commit.bind(op);
          op.commit = () => around(commit, sets);
          return op;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Deno.Kv that counts the entries it hands out (get, getMany, list). */
export function countingKv(
  kv: Deno.Kv,
): { kv: Deno.Kv; reads: () => number; reset: () => void } {
  let reads = 0;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "get") {
        return (
          key: Deno.KvKey,
          opts?: { consistency?: Deno.KvConsistencyLevel },
        ) => {
          reads++;
          return target.get(key, opts);
        };
      }
      if (prop === "getMany") {
        return (
          list: Deno.KvKey[],
          opts?: { consistency?: Deno.KvConsistencyLevel },
        ) => {
          reads += list.length;
          return target.getMany(list, opts);
        };
      }
      if (prop === "list") {
        return (selector: Deno.KvListSelector, opts?: Deno.KvListOptions) => {
          const iter = target.list(selector, opts);
          return {
            get cursor() {
              return iter.cursor;
            },
            async next() {
              const r = await iter.next();
              if (!r.done) reads++;
              return r;
            },
            [Symbol.asyncIterator]() {
              return this;
            },
          };
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    kv: proxy,
    reads: () => reads,
    reset: () => {
      reads = 0;
    },
  };
}
