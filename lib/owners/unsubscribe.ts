/**
 * One-click unsubscribe (RFC 8058): each warning email carries
 * `List-Unsubscribe: <PUBLIC_URL/unsubscribe/TOKEN>`; a mail provider POSTs
 * there without cookies, so the token itself is the authority. It names the
 * owner and the channel, signed with an HMAC under a key kept in KV (made by
 * the first signer, never by a checker, so a forged token writes nothing).
 */
import { fromTokenPart, tokenTag, toTokenPart } from "./token_parts.ts";
import { signingKey } from "../kv/signing_keys.ts";
import { secretsEqual } from "../auth/compare.ts";
import { isId } from "../ids.ts";
import type { WarningChannel } from "./settings.ts";

/** The channel as the token spells it. */
const CODES: Record<WarningChannel, string> = {
  email: "email",
  mobile_push: "push",
};

export interface UnsubscribeGrant {
  userId: string;
  channel: WarningChannel;
}

function sign(key: Uint8Array, userId: string, code: string): string {
  return tokenTag(key, "unsubscribe", code, userId);
}

/** Signs unsubscribe tokens (the key read once). */
export async function unsubscribeSigner(
  kv: Deno.Kv,
): Promise<(userId: string, channel: WarningChannel) => string> {
  const key = (await signingKey(kv, "unsubscribe_signing_key"))!;
  return (userId, channel) =>
    `${sign(key, userId, CODES[channel])}.${CODES[channel]}.${
      toTokenPart(userId)
    }`;
}

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/unsubscribe/${token}`;
}

/** Who and which channel a token stands for; null for anything not signed by us. */
export async function readUnsubscribeToken(
  kv: Deno.Kv,
  token: string,
): Promise<UnsubscribeGrant | null> {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [sig, code, encoded] = parts;
  const channel = (Object.keys(CODES) as WarningChannel[]).find((c) =>
    CODES[c] === code
  );
  const userId = fromTokenPart(encoded);
  if (!channel || !userId || !isId(userId)) return null;
  const key = await signingKey(kv, "unsubscribe_signing_key", false);
  if (!key || !(await secretsEqual(sig, sign(key, userId, code)))) return null;
  return { userId, channel };
}
