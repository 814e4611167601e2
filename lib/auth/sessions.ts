/** Cookie sessions stored in KV with an expiry; sign-out deletes them. */
import { keys } from "../kv/keys.ts";
import { randomToken, sha256Hex } from "./compare.ts";

export const SESSION_COOKIE = "kc_session";

/**
 * Over https the cookie is `__Host-` prefixed: browsers then refuse it unless
 * it is Secure, host-only and for `/`, so no sibling subdomain can plant one.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}
export const SESSION_TTL_MS = 7 * 24 * 3600_000;

export interface Session {
  userId: string;
  /** Token forms must echo back (CSRF). */
  csrfToken: string;
  createdAt: string;
  expiresAt: number;
}

/** The cookie carries a random id; KV is keyed by its hash, so a KV dump holds no live cookie. */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  now = Date.now(),
): Promise<{ id: string; session: Session }> {
  const id = randomToken(32);
  const session: Session = {
    userId,
    csrfToken: randomToken(24),
    createdAt: new Date(now).toISOString(),
    expiresAt: now + SESSION_TTL_MS,
  };
  await kv.set(keys.session(await sha256Hex(id)), session, {
    expireIn: SESSION_TTL_MS,
  });
  return { id, session };
}

export async function getSession(
  kv: Deno.Kv,
  id: string,
  now = Date.now(),
): Promise<Session | null> {
  if (!id || id.length > 100) return null;
  const s = (await kv.get<Session>(keys.session(await sha256Hex(id)))).value;
  // expireIn deletes lazily: the stored expiry is what counts.
  return s && s.expiresAt > now ? s : null;
}

export async function deleteSession(kv: Deno.Kv, id: string): Promise<void> {
  await kv.delete(keys.session(await sha256Hex(id)));
}

export function sessionCookie(id: string, secure: boolean): string {
  return [
    `${sessionCookieName(secure)}=${id}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearSessionCookie(secure: boolean): string {
  return [
    `${sessionCookieName(secure)}=`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    "Max-Age=0",
    ...(secure ? ["Secure"] : []),
  ]
    .join("; ");
}

export function readCookie(req: Request, name: string): string | null {
  const header = req.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      return part.slice(i + 1).trim();
    }
  }
  return null;
}
