/**
 * "This browser has signed in as this address before" (OWASP's device
 * cookies): set when a sign-in link is followed, it carries its expiry and an
 * HMAC of the address and expiry under a key kept in KV, so it stores nothing
 * per browser and cannot be made for an address one never signed in as. A
 * sign-in request carrying it for the address it asks for is not anonymous
 * traffic and is not counted against all clients' budget: a flood that spends
 * that budget does not lock out someone coming back on a browser they used.
 */
import { createHmac } from "node:crypto";
import { serialize } from "hono/utils/cookie";
import { signingKey } from "../kv/signing_keys.ts";
import { secretsEqual } from "./compare.ts";

export const DEVICE_COOKIE = "kc_device";
export const DEVICE_TTL_MS = 90 * 24 * 3_600_000;

/** Over https `__Host-` prefixed, like the session cookie: no sibling subdomain can plant one. */
export function deviceCookieName(secure: boolean): string {
  return secure ? `__Host-${DEVICE_COOKIE}` : DEVICE_COOKIE;
}

const mac = (key: Uint8Array, email: string, expiresAt: number) =>
  createHmac("sha256", key).update(`device:${email}:${expiresAt}`)
    .digest("base64url");

/** The Set-Cookie value for a browser that just signed in as `email` (lower case). */
export async function deviceCookie(
  kv: Deno.Kv,
  email: string,
  o: { secure: boolean; now: number },
): Promise<string> {
  const key = (await signingKey(kv, "device_signing_key"))!;
  const expiresAt = o.now + DEVICE_TTL_MS;
  return serialize(
    deviceCookieName(o.secure),
    `${expiresAt}.${mac(key, email, expiresAt)}`,
    {
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      maxAge: Math.floor(DEVICE_TTL_MS / 1000),
      secure: o.secure,
    },
  );
}

/** Does this cookie say its browser signed in as `email` (lower case), and is it still in date? */
export async function deviceKnows(
  kv: Deno.Kv,
  cookie: string | null,
  email: string,
  now: number,
): Promise<boolean> {
  const m = cookie?.match(/^(\d{1,15})\.([A-Za-z0-9_-]{43})$/);
  if (!m || Number(m[1]) <= now) return false;
  // No cookie was ever set before the key exists: nothing to check, nothing written.
  const key = await signingKey(kv, "device_signing_key", false);
  return !!key && await secretsEqual(m[2], mac(key, email, Number(m[1])));
}
