/** Packing many writes into as few KV commits as its limits allow. */

import { MAX_CHECKS, MAX_MUTATIONS } from "./db.ts";
export { MAX_CHECKS, MAX_MUTATIONS };

export interface CommitCost {
  checks: number;
  mutations: number;
}

/**
 * Groups items, in order, into commits that stay within KV's limits. `reserve`
 * is what every commit spends besides the items (e.g. a marker check).
 */
export function packCommits<T>(
  items: readonly T[],
  cost: (item: T) => CommitCost,
  reserve: CommitCost = { checks: 0, mutations: 0 },
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let checks = reserve.checks;
  let mutations = reserve.mutations;
  for (const item of items) {
    const c = cost(item);
    if (
      cur.length &&
      (checks + c.checks > MAX_CHECKS ||
        mutations + c.mutations > MAX_MUTATIONS)
    ) {
      out.push(cur);
      cur = [];
      checks = reserve.checks;
      mutations = reserve.mutations;
    }
    cur.push(item);
    checks += c.checks;
    mutations += c.mutations;
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Runs `work` over items with at most `width` in flight; the first error
 * stops new work and is thrown once the running ones have settled.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, lane),
  );
  if (failure) throw (failure as { err: unknown }).err;
}

/**
 * A bounded set of commits in flight: `add` waits while `width` are running.
 * `drain` waits for all and throws the first error any of them met.
 */
export function commitPool(width: number) {
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | null = null;
  return {
    async add(work: () => Promise<void>): Promise<void> {
      while (running.size >= width) await Promise.race(running);
      if (failure) throw failure.err;
      const p: Promise<void> = work().catch((err) => {
        failure ??= { err };
      }).finally(() => running.delete(p));
      running.add(p);
    },
    async drain(): Promise<void> {
      await Promise.all(running);
      if (failure) throw failure.err;
    },
  };
}
