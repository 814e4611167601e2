/**
 * Fixed-window attempt counters in KV, each expiring with its window. An
 * attempt is counted against several limits at once, all or none: a request
 * refused by one limit stores nothing, so traffic over its limit cannot make
 * the store grow.
 */
import { keys } from "../kv/keys.ts";

export interface Limit {
  max: number;
  windowMs: number;
}

export interface Counter {
  scope: string;
  subject: string;
  limit: Limit;
}

/** Attempts counted in this process go one after another: they never contend with each other. */
let inProcess: Promise<unknown> = Promise.resolve();

/**
 * Counts one attempt against every counter; false (and nothing written) when
 * any of them is at its limit in this window, or when other processes keep
 * the counters too contended to count (an overloaded endpoint refuses rather
 * than waits long).
 */
export function allowAttempt(
  kv: Deno.Kv,
  counters: Counter[],
  now = Date.now(),
): Promise<boolean> {
  const turn = inProcess.then(() => count(kv, counters, now));
  inProcess = turn.catch(() => {});
  return turn;
}

async function count(
  kv: Deno.Kv,
  counters: Counter[],
  now: number,
): Promise<boolean> {
  const keyList = counters.map((c) =>
    keys.rateLimit(c.scope, c.subject, Math.floor(now / c.limit.windowMs))
  );
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await kv.getMany<number[]>(keyList);
    if (current.some((e, i) => (e.value ?? 0) >= counters[i].limit.max)) {
      return false;
    }
    const op = kv.atomic();
    current.forEach((e, i) => {
      op.check(e).set(e.key, (e.value ?? 0) + 1, {
        expireIn: counters[i].limit.windowMs * 2,
      });
    });
    if ((await op.commit()).ok) return true;
    // Another process counted at the same moment: back off a random while.
    await new Promise((r) =>
      setTimeout(r, Math.random() * Math.min(2 ** attempt, 100))
    );
  }
  return false;
}

/**
 * Who a limit counts, from the peer address: an IPv4 address, or the /64 an
 * IPv6 address is in (one subscriber holds a whole /64, so counting single
 * addresses would let them through 2^64 times).
 */
export function clientSubject(hostname: string): string {
  const mapped = hostname.match(/^(?:::ffff:)(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return mapped[1];
  if (!hostname.includes(":")) return hostname.slice(0, 64);
  const bare = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const [head, tail] = bare.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [
    ...left,
    ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"),
    ...right,
  ];
  const prefix = groups.slice(0, 4).map((g) =>
    (parseInt(g, 16) || 0).toString(16)
  );
  return `${prefix.join(":")}::/64`;
}
