import { timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();
let hmacKey: Promise<CryptoKey> | null = null;

/** A per-process random key: only the equality of the two digests matters. */
function key(): Promise<CryptoKey> {
  hmacKey ??= crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hmacKey;
}

/**
 * Constant-time string equality: both sides are HMAC-SHA256'd first so the
 * compare runs on fixed-length buffers whatever the inputs' lengths.
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const k = await key();
  const [da, db] = await Promise.all([
    crypto.subtle.sign("HMAC", k, encoder.encode(a)),
    crypto.subtle.sign("HMAC", k, encoder.encode(b)),
  ]);
  return timingSafeEqual(new Uint8Array(da), new Uint8Array(db));
}

/** A URL-safe random token of `bytes` random bytes. */
export function randomToken(bytes = 32): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...buf)).replaceAll("+", "-").replaceAll(
    "/",
    "_",
  )
    .replace(/=+$/, "");
}

/** Hex SHA-256 of a string: what KV stores in place of a sign-in token. */
export { sha256Hex } from "../hex.ts";
