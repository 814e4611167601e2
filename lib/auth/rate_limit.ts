/** Fixed-window attempt counters in KV, each expiring with its window. */
import { keys } from "../kv/keys.ts";

export interface Limit {
  max: number;
  windowMs: number;
}

/** Counts one attempt; false when the subject is over its limit in this window. */
export async function allowAttempt(
  kv: Deno.Kv,
  scope: string,
  subject: string,
  limit: Limit,
  now = Date.now(),
): Promise<boolean> {
  const key = keys.rateLimit(scope, subject, Math.floor(now / limit.windowMs));
  for (let attempt = 0; attempt < 20; attempt++) {
    const cur = await kv.get<number>(key);
    const count = (cur.value ?? 0) + 1;
    if (count > limit.max) return false;
    const res = await kv.atomic().check(cur).set(key, count, {
      expireIn: limit.windowMs * 2,
    }).commit();
    if (res.ok) return true;
  }
  return false;
}
