/** Cookie sessions stored in KV with an expiry; sign-out deletes them, and so does deleting the user. */
import { parse, serialize } from "hono/utils/cookie";
import { keys } from "../kv/keys.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import { randomToken, sha256Hex } from "./compare.ts";
import type { User } from "../types.ts";

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
  /**
   * The user record's `createdAt` when the session began: a user deleted and
   * created again under the same id is someone new, and this session is not theirs.
   */
  userCreatedAt?: string;
  /** Token forms must echo back (CSRF). */
  csrfToken: string;
  createdAt: string;
  expiresAt: number;
}

/**
 * Starts a session for an existing user. The cookie carries a random id; KV
 * is keyed by its hash, so a KV dump holds no live cookie.
 */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
  now = Date.now(),
): Promise<{ id: string; session: Session }> {
  return await conditionalWrite(`user ${userId}`, async () => {
    const user = await kv.get<User>(keys.user(userId));
    if (!user.value) {
      throw new Error(`no user ${userId} to start a session for`);
    }
    const id = randomToken(32);
    const hash = await sha256Hex(id);
    const session: Session = {
      userId,
      userCreatedAt: user.value.createdAt,
      csrfToken: randomToken(24),
      createdAt: new Date(now).toISOString(),
      expiresAt: now + SESSION_TTL_MS,
    };
    // Checking the user: a session never starts for a record being deleted.
    return {
      write: () =>
        kv.atomic().check(user)
          .set(keys.session(hash), session, { expireIn: SESSION_TTL_MS })
          .set(keys.sessionByUser(userId, hash), null, {
            expireIn: SESSION_TTL_MS,
          }),
      result: { id, session },
    };
  });
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

/** Whether a session still belongs to this user record (not to an earlier user with the same id). */
export function sessionBelongsTo(
  session: Session,
  user: Pick<User, "id" | "createdAt">,
): boolean {
  if (session.userId !== user.id) return false;
  return session.userCreatedAt !== undefined
    ? session.userCreatedAt === user.createdAt
    // Sessions from before the stamp: one that began before the user record did is not theirs.
    : session.createdAt >= user.createdAt;
}

export async function deleteSession(kv: Deno.Kv, id: string): Promise<void> {
  const hash = await sha256Hex(id);
  const cur = await kv.get<Session>(keys.session(hash));
  const op = kv.atomic().delete(keys.session(hash));
  if (cur.value) op.delete(keys.sessionByUser(cur.value.userId, hash));
  await op.commit();
}

export function sessionCookie(id: string, secure: boolean): string {
  return serialize(sessionCookieName(secure), id, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
    secure,
  });
}

export function clearSessionCookie(secure: boolean): string {
  return serialize(sessionCookieName(secure), "", {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    maxAge: 0,
    secure,
  });
}

export function readCookie(req: Request, name: string): string | null {
  const header = req.headers.get("cookie");
  return header ? parse(header, name)[name] ?? null : null;
}
