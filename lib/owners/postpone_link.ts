/**
 * The warning email's "Change the time" link: a token naming the owner and
 * the instance, signed with an HMAC under its own key (as the unsubscribe
 * token is). It only says which instance the page is about: the page still
 * requires the owner to sign in, and the postpone checks everything again.
 */
import { createHmac } from "node:crypto";
import { signingKey } from "../kv/signing_keys.ts";
import { secretsEqual } from "../auth/compare.ts";
import { isId } from "../ids.ts";

export interface PostponeGrant {
  userId: string;
  instanceId: string;
}

function sign(key: Uint8Array, userId: string, instanceId: string): string {
  return createHmac("sha256", key).update(`postpone:${userId}:${instanceId}`)
    .digest("base64url").slice(0, 32);
}

const toB64 = (s: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(s)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function fromB64(s: string): string | null {
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

/** Signs postpone tokens (the key read once). */
export async function postponeSigner(
  kv: Deno.Kv,
): Promise<(userId: string, instanceId: string) => string> {
  const key = (await signingKey(kv, "postpone_signing_key"))!;
  return (userId, instanceId) =>
    `${sign(key, userId, instanceId)}.${toB64(userId)}.${toB64(instanceId)}`;
}

export function postponeUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/postpone/${token}`;
}

/** Whose instance a token names; null for anything not signed by us. */
export async function readPostponeToken(
  kv: Deno.Kv,
  token: string,
): Promise<PostponeGrant | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [sig, u, i] = parts;
  const userId = fromB64(u);
  const instanceId = fromB64(i);
  if (!userId || !instanceId || !isId(userId) || !isId(instanceId)) {
    return null;
  }
  const key = await signingKey(kv, "postpone_signing_key", false);
  if (!key || !(await secretsEqual(sig, sign(key, userId, instanceId)))) {
    return null;
  }
  return { userId, instanceId };
}
