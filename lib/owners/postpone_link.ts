/**
 * The warning email's "Change the time" link: a token naming the owner and
 * the instance, signed with an HMAC under its own key (as the unsubscribe
 * token is). It only says which instance the page is about: the page still
 * requires the owner to sign in, and the postpone checks everything again.
 */
import { fromTokenPart, tokenTag, toTokenPart } from "./token_parts.ts";
import { signingKey } from "../kv/signing_keys.ts";
import { secretsEqual } from "../auth/compare.ts";
import { isId } from "../ids.ts";

export interface PostponeGrant {
  userId: string;
  instanceId: string;
}

function sign(key: Uint8Array, userId: string, instanceId: string): string {
  return tokenTag(key, "postpone", userId, instanceId);
}

/** Signs postpone tokens (the key read once). */
export async function postponeSigner(
  kv: Deno.Kv,
): Promise<(userId: string, instanceId: string) => string> {
  const key = (await signingKey(kv, "postpone_signing_key"))!;
  return (userId, instanceId) =>
    `${sign(key, userId, instanceId)}.${toTokenPart(userId)}.${
      toTokenPart(instanceId)
    }`;
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
  const userId = fromTokenPart(u);
  const instanceId = fromTokenPart(i);
  if (!userId || !instanceId || !isId(userId) || !isId(instanceId)) {
    return null;
  }
  const key = await signingKey(kv, "postpone_signing_key", false);
  if (!key || !(await secretsEqual(sig, sign(key, userId, instanceId)))) {
    return null;
  }
  return { userId, instanceId };
}
