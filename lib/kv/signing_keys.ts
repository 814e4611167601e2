/**
 * Random HMAC keys kept in KV under `meta`, one per use, so that what one
 * process signs every other process can check. A key is made on first use by
 * a signer and never by a checker (`create: false`): a visitor with a made-up
 * token writes nothing.
 */
import { keys } from "./keys.ts";
import { commitRetrying } from "./db.ts";

export type SigningKeyName =
  | "calendar_signing_key"
  | "device_signing_key"
  | "unsubscribe_signing_key"
  | "postpone_signing_key";

/** Each database's keys once read: a key never changes after it is made. */
const known = new WeakMap<Deno.Kv, Map<SigningKeyName, Uint8Array>>();

/** The key named `name`; null when it does not exist yet and `create` is false. */
export async function signingKey(
  kv: Deno.Kv,
  name: SigningKeyName,
  create = true,
): Promise<Uint8Array | null> {
  const memo = known.get(kv)?.get(name);
  if (memo) return memo;
  const key = keys.meta(name);
  let raw = (await kv.get<Uint8Array>(key)).value;
  if (!raw && !create) return null;
  if (!raw) {
    const fresh = crypto.getRandomValues(new Uint8Array(32));
    // Two processes making it at once: the first one written is everyone's.
    const res = await commitRetrying(() =>
      kv.atomic().check({ key, versionstamp: null }).set(key, fresh)
    );
    raw = res.ok ? fresh : (await kv.get<Uint8Array>(key)).value!;
  }
  if (!known.has(kv)) known.set(kv, new Map());
  known.get(kv)!.set(name, raw);
  return raw;
}
