/**
 * Sign-in by emailed one-time link: 15 minutes, single use, only a hash of the
 * token stored (with `expireIn`). Asking for a link answers the same, in the
 * same time, whether or not the address is known: the email goes out from a
 * row kept in KV, after the answer (sign_in_emails.ts).
 */
import { keys } from "../kv/keys.ts";
import { getUserByEmail, putUser } from "../kv/users.ts";
import { newId } from "../ids.ts";
import { allowAttempt, clientSubject } from "./rate_limit.ts";
import { randomToken, sha256Hex } from "./compare.ts";
import { deviceKnows } from "./device_cookie.ts";
import type { EmailSender, SendFailure } from "../channels/types.ts";
import type { Config } from "../config.ts";
import { renderLoginEmail } from "@/lib/channels/email_templates/LoginEmail.tsx";

export const LOGIN_LINK_TTL_MS = 15 * 60_000;
export const PER_ADDRESS = { max: 5, windowMs: 15 * 60_000 };
export const PER_CLIENT = { max: 20, windowMs: 15 * 60_000 };
/**
 * Every client together: what anonymous traffic may store is bounded even
 * when it comes from many addresses (at most this many address counters,
 * client counters and queued emails a window). A browser that signed in as
 * the address before (`device_cookie.ts`) is not anonymous and not counted
 * here, so spending this budget locks out nobody coming back.
 */
export const ALL_CLIENTS = { max: 1_000, windowMs: 15 * 60_000 };

interface StoredLink {
  userId: string;
  expiresAt: number;
  /** Where to go after signing in (a same-site path). */
  next: string;
}

export type LinkRequestOutcome = "queued" | "rate_limited";

/** What a sign-in email row carries from `/login` to `sendLoginLink`. */
export interface SignInLinkJob {
  kind: "sign_in_link";
  email: string;
  next: string;
}

/**
 * Counts the attempt and hands the address on to be emailed. The page answers
 * the same, just as fast, whether or not the address is known: looking it up
 * and sending the email happen in `sendLoginLink`, off the request. Only the
 * browser's own device cookie is checked here, never the address.
 */
export async function requestLoginLink(
  deps: {
    kv: Deno.Kv;
    now: () => number;
    /** Stores the email to send (a sign-in email row); must not look the address up. */
    queue: (job: SignInLinkJob) => Promise<void>;
  },
  rawEmail: string,
  client: string,
  next = "/",
  o: { deviceCookie?: string | null } = {},
): Promise<LinkRequestOutcome> {
  const { kv } = deps;
  const email = rawEmail.trim().toLowerCase();
  const now = deps.now();
  const known = await deviceKnows(kv, o.deviceCookie ?? null, email, now);
  // A browser that signed in as the address before is not anonymous: it is
  // counted against a limit of its own for the address, and against neither
  // its network's (many colleagues share one) nor everyone's budget, so
  // neither a flood nor someone asking for its links can lock it out.
  const allowed = await allowAttempt(
    kv,
    known
      ? [{ scope: "login_address_device", subject: email, limit: PER_ADDRESS }]
      : [
        {
          scope: "login_client",
          subject: clientSubject(client),
          limit: PER_CLIENT,
        },
        { scope: "login_address", subject: email, limit: PER_ADDRESS },
        { scope: "login_all", subject: "*", limit: ALL_CLIENTS },
      ],
    now,
  );
  if (!allowed) return "rate_limited";
  await deps.queue({ kind: "sign_in_link", email, next });
  return "queued";
}

/** What one attempt at a sign-in email did. `tokenHash` names the link it carried. */
export type LoginLinkSend =
  | { outcome: "unknown" }
  | { outcome: "sent"; link: string; tokenHash: string }
  | { outcome: "failed"; failure: SendFailure; tokenHash: string };

/**
 * Emails a sign-in link to a known address. Addresses in ADMIN_EMAILS get a
 * user record on first request. Unknown addresses get nothing. Never throws
 * for a provider's refusal: the caller decides whether to try again.
 */
export async function sendLoginLink(
  deps: { kv: Deno.Kv; config: Config; email: EmailSender; now: () => number },
  job: Pick<SignInLinkJob, "email" | "next">,
  opts: { idempotencyKey?: string; signal?: AbortSignal } = {},
): Promise<LoginLinkSend> {
  const { kv, config } = deps;
  const now = deps.now();
  let user = await getUserByEmail(kv, job.email);
  if (!user && config.adminEmails.includes(job.email)) {
    user = await putUser(kv, newId(), { email: job.email, admin: true }, now);
  }
  if (!user) return { outcome: "unknown" };
  const { link, tokenHash } = await issueLoginLink(
    kv,
    user.id,
    config.publicUrl,
    now,
    job.next,
  );
  const message = renderLoginEmail({
    name: user.name,
    link,
    minutes: LOGIN_LINK_TTL_MS / 60_000,
  });
  const res = await deps.email.send({
    to: user.email,
    ...message,
    tags: { kind: "sign_in" },
  }, opts);
  return res.ok
    ? { outcome: "sent", link, tokenHash }
    : { outcome: "failed", failure: res, tokenHash };
}

/** Stores a fresh token's hash and returns the link that carries the token. */
export async function createLoginLink(
  kv: Deno.Kv,
  userId: string,
  publicUrl: string,
  now = Date.now(),
  next = "/",
): Promise<string> {
  return (await issueLoginLink(kv, userId, publicUrl, now, next)).link;
}

async function issueLoginLink(
  kv: Deno.Kv,
  userId: string,
  publicUrl: string,
  now: number,
  next: string,
): Promise<{ link: string; tokenHash: string }> {
  const token = randomToken(32);
  const stored: StoredLink = {
    userId,
    expiresAt: now + LOGIN_LINK_TTL_MS,
    next,
  };
  const tokenHash = await sha256Hex(token);
  await kv.set(keys.loginToken(tokenHash), stored, {
    expireIn: LOGIN_LINK_TTL_MS,
  });
  return { link: `${publicUrl}/login/${token}`, tokenHash };
}

/** Withdraws a link that was never delivered, so it cannot be used. */
export async function revokeLoginLink(
  kv: Deno.Kv,
  tokenHash: string,
): Promise<void> {
  await kv.delete(keys.loginToken(tokenHash));
}

/**
 * Reads a token without spending it: whom the link signs in, while it is
 * valid. Showing a question about the link uses this, so the link still
 * works for the answer.
 */
export async function peekLoginLink(
  kv: Deno.Kv,
  token: string,
  now = Date.now(),
): Promise<{ userId: string; next: string } | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const entry = await kv.get<StoredLink>(
    keys.loginToken(await sha256Hex(token)),
  );
  return entry.value && entry.value.expiresAt > now
    ? { userId: entry.value.userId, next: entry.value.next }
    : null;
}

/** Spends a token: returns its user id once, then never again (get and delete in one atomic step). */
export async function consumeLoginLink(
  kv: Deno.Kv,
  token: string,
  now = Date.now(),
): Promise<{ userId: string; next: string } | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
  const key = keys.loginToken(await sha256Hex(token));
  const entry = await kv.get<StoredLink>(key);
  if (!entry.value) return null;
  const res = await kv.atomic().check(entry).delete(key).commit();
  if (!res.ok) return null;
  return entry.value.expiresAt > now
    ? { userId: entry.value.userId, next: entry.value.next }
    : null;
}
