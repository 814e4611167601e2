/**
 * What the owners' signed links share (the one-click unsubscribe and the
 * "Change the time" link): an HMAC tag over a purpose and the values the
 * token names, and those values in URL-safe base64 inside the token.
 */
import { createHmac } from "node:crypto";

/** The token's signature: 32 URL-safe characters of HMAC-SHA256 over `purpose:values…`. */
export function tokenTag(
  key: Uint8Array,
  purpose: string,
  ...values: string[]
): string {
  return createHmac("sha256", key).update([purpose, ...values].join(":"))
    .digest("base64url").slice(0, 32);
}

/** A value as it sits in a token. */
export function toTokenPart(s: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(s)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A token's value back, or null for anything that is not one. */
export function fromTokenPart(s: string): string | null {
  if (!/^[\w-]{1,200}$/.test(s)) return null;
  try {
    const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
}
