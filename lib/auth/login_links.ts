/**
 * Sign-in by emailed one-time link: 15 minutes, single use, only a hash of the
 * token stored (with `expireIn`). Asking for a link answers the same, in the
 * same time, whether or not the address is known: the email goes out from the
 * KV queue (lib/queue.ts).
 */
import { keys } from "../kv/keys.ts";
import { getUserByEmail, putUser } from "../kv/users.ts";
import { newId } from "../ids.ts";
import { allowAttempt, clientSubject } from "./rate_limit.ts";
import { randomToken, sha256Hex } from "./compare.ts";
import type { EmailSender } from "../channels/types.ts";
import type { Config } from "../config.ts";
import { renderLoginEmail } from "../../components/email/LoginEmail.tsx";

export const LOGIN_LINK_TTL_MS = 15 * 60_000;
export const PER_ADDRESS = { max: 5, windowMs: 15 * 60_000 };
export const PER_CLIENT = { max: 20, windowMs: 15 * 60_000 };
/**
 * Every client together: what anonymous traffic may store is bounded even
 * when it comes from many addresses (at most this many address counters,
 * client counters and queued emails a window).
 */
export const ALL_CLIENTS = { max: 1_000, windowMs: 15 * 60_000 };

interface StoredLink {
  userId: string;
  expiresAt: number;
  /** Where to go after signing in (a same-site path). */
  next: string;
}

export type LinkRequestOutcome = "queued" | "rate_limited";

/** What the queue carries from `/login` to `sendLoginLink`. */
export interface SignInLinkJob {
  kind: "sign_in_link";
  email: string;
  next: string;
}

/**
 * Counts the attempt and hands the address to the queue. The page answers the
 * same, just as fast, whether or not the address is known: looking it up and
 * sending the email happen in `sendLoginLink`, off the request.
 */
export async function requestLoginLink(
  deps: {
    kv: Deno.Kv;
    now: () => number;
    enqueue: (job: SignInLinkJob) => Promise<void>;
  },
  rawEmail: string,
  client: string,
  next = "/",
): Promise<LinkRequestOutcome> {
  const { kv } = deps;
  const email = rawEmail.trim().toLowerCase();
  const now = deps.now();
  const allowed = await allowAttempt(kv, [
    {
      scope: "login_client",
      subject: clientSubject(client),
      limit: PER_CLIENT,
    },
    { scope: "login_address", subject: email, limit: PER_ADDRESS },
    { scope: "login_all", subject: "*", limit: ALL_CLIENTS },
  ], now);
  if (!allowed) return "rate_limited";
  await deps.enqueue({ kind: "sign_in_link", email, next });
  return "queued";
}

/**
 * Emails a sign-in link to a known address. Addresses in ADMIN_EMAILS get a
 * user record on first request. Unknown addresses get nothing.
 */
export async function sendLoginLink(
  deps: { kv: Deno.Kv; config: Config; email: EmailSender; now: () => number },
  job: Pick<SignInLinkJob, "email" | "next">,
): Promise<{ outcome: "sent" | "unknown"; link?: string }> {
  const { kv, config } = deps;
  const now = deps.now();
  let user = await getUserByEmail(kv, job.email);
  if (!user && config.adminEmails.includes(job.email)) {
    user = await putUser(kv, newId(), { email: job.email, admin: true }, now);
  }
  if (!user) return { outcome: "unknown" };
  const link = await createLoginLink(
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
  });
  if (!res.ok) {
    throw new Error(`sign-in email to ${user.email} failed: ${res.error}`);
  }
  return { outcome: "sent", link };
}

/** Stores a fresh token's hash and returns the link that carries the token. */
export async function createLoginLink(
  kv: Deno.Kv,
  userId: string,
  publicUrl: string,
  now = Date.now(),
  next = "/",
): Promise<string> {
  const token = randomToken(32);
  const stored: StoredLink = {
    userId,
    expiresAt: now + LOGIN_LINK_TTL_MS,
    next,
  };
  await kv.set(keys.loginToken(await sha256Hex(token)), stored, {
    expireIn: LOGIN_LINK_TTL_MS,
  });
  return `${publicUrl}/login/${token}`;
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
