/** Users: records, the email index, push tokens; the admin's body for a user. */
import { z } from "zod";
import { keys } from "./keys.ts";
import { conditionalWrite } from "./conditional_write.ts";
import { getManyById, getManyChunked } from "./batched_reads.ts";
import { deleteSessionsOfUser } from "./user_sessions.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import { addAuditWrite } from "./audit.ts";
import { isTimeZone } from "../format.ts";
import { textField } from "../text.ts";
import type { AuditEntry, Role, User } from "../types.ts";

/** `PUT /api/admin/users/:id`. */
export const UserPutSchema = z.strictObject({
  email: z.email("must be an email address").max(254),
  // A blank name is no name; leaving the field out keeps the one stored.
  name: textField({ max: 120 }).nullish().transform((v) => v === "" ? null : v),
  timeZone: z.string().trim().max(64).refine(
    isTimeZone,
    "must be an IANA time zone, e.g. Europe/Berlin",
  )
    .nullish(),
  admin: z.boolean().optional(),
});

export async function getUser(kv: Deno.Kv, id: string): Promise<User | null> {
  return (await kv.get<User>(keys.user(id))).value;
}

export async function getUserByEmail(
  kv: Deno.Kv,
  email: string,
): Promise<User | null> {
  const idx = await kv.get<string>(keys.userByEmail(email));
  return idx.value ? await getUser(kv, idx.value) : null;
}

/** How pages name a person: "Name <email>", or the email alone. */
export function nameAndEmail(user: Pick<User, "name" | "email">): string {
  return user.name ? `${user.name} <${user.email}>` : user.email;
}

/** How pages name a user: "Name <email>", or the email; a missing record by its id. */
export function userLabel(user: User | null | undefined, id: string): string {
  return user ? nameAndEmail(user) : `missing user ${id}`;
}

/** Users per page of the admin list, and the most a page may hold. */
export const USER_PAGE_SIZE = 50;
export const MAX_USER_PAGE_SIZE = 200;

export interface UserPage {
  items: User[];
  /** Pass back for the next page; null on the last one. */
  cursor: string | null;
}

/** One page of users in email order (the email index), read a page at a time. */
export async function listUsersPage(
  kv: Deno.Kv,
  opts: { cursor?: string; limit?: number } = {},
): Promise<UserPage> {
  const limit = Math.min(
    Math.max(1, opts.limit ?? USER_PAGE_SIZE),
    MAX_USER_PAGE_SIZE,
  );
  const iter = kv.list<string>({ prefix: keys.usersByEmail() }, {
    cursor: opts.cursor,
    limit,
  });
  const ids: string[] = [];
  for await (const e of iter) ids.push(e.value);
  const found = await getUsers(kv, ids);
  return {
    items: ids.map((id) => found.get(id)).filter((u): u is User =>
      u !== undefined
    ),
    cursor: ids.length === limit && iter.cursor ? iter.cursor : null,
  };
}

/** Reads many users by id; missing ones are absent from the map. */
export async function getUsers(
  kv: Deno.Kv,
  ids: Iterable<string>,
): Promise<Map<string, User>> {
  const found = await getManyById<User>(kv, ids, (id) => keys.user(id));
  const out = new Map<string, User>();
  for (const [id, e] of found) if (e.value) out.set(id, e.value);
  return out;
}

/** Whether any user exists (reads one key at most). */
export async function hasAnyUser(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: keys.users() }, { limit: 1 })) {
    return true;
  }
  return false;
}

export interface UserInput {
  email: string;
  name?: string | null;
  timeZone?: string | null;
  admin?: boolean;
}

/** Creates or replaces a user; the email must not belong to another user (409). */
export async function putUser(
  kv: Deno.Kv,
  id: string,
  input: UserInput,
  now = Date.now(),
  /** The audit entry of this change, written in the same atomic operation. */
  audit?: (prev: User | null, next: User) => AuditEntry,
): Promise<User> {
  const email = input.email.trim().toLowerCase();
  return await conditionalWrite(`user ${id}`, async () => {
    const [cur, owner] = await kv.getMany<[User, string]>([
      keys.user(id),
      keys.userByEmail(email),
    ]);
    if (owner.value && owner.value !== id) {
      throw new ConflictError(
        `email ${email} already belongs to user ${owner.value}`,
      );
    }
    const prev = cur.value;
    const at = new Date(now).toISOString();
    const user: User = {
      id,
      email,
      name: input.name === undefined ? prev?.name ?? null : input.name,
      timeZone: input.timeZone === undefined
        ? prev?.timeZone ?? null
        : input.timeZone,
      role: input.admin === undefined
        ? prev?.role ?? "user"
        : (input.admin ? "admin" : "user"),
      pushTokens: prev?.pushTokens ?? [],
      createdAt: prev?.createdAt ?? at,
      updatedAt: at,
    };
    return {
      write: () => {
        const op = kv.atomic().check(cur).check(owner)
          .set(keys.user(id), user)
          .set(keys.userByEmail(email), id);
        if (prev && prev.email !== email) {
          op.delete(keys.userByEmail(prev.email));
        }
        if (audit) addAuditWrite(op, audit(prev, user));
        return op;
      },
      result: user,
    };
  });
}

/**
 * Hard delete: the record, its email index, its settings and the devices it held, then
 * every session it had. Instances keep their owner id (the orphaned-user path).
 */
export async function deleteUser(
  kv: Deno.Kv,
  id: string,
  /** The audit entry of this change, written in the same atomic operation. */
  audit?: (prev: User) => AuditEntry,
): Promise<boolean> {
  const deleted = await conditionalWrite<boolean>(`user ${id}`, async () => {
    const cur = await kv.get<User>(keys.user(id));
    if (!cur.value) return { done: false };
    const user = cur.value;
    const owners = await getManyChunked<string>(
      kv,
      user.pushTokens.map((t) => keys.pushTokenOwner(t)),
    );
    return {
      write: () => {
        const op = kv.atomic().check(cur).delete(keys.user(id)).delete(
          keys.userByEmail(user.email),
        ).delete(keys.userSettings(id));
        for (const owner of owners) {
          if (owner.value === id) op.check(owner).delete(owner.key);
        }
        if (audit) addAuditWrite(op, audit(user));
        return op;
      },
      result: true,
    };
  });
  if (deleted) await deleteSessionsOfUser(kv, id);
  return deleted;
}

/** Applies `change` to a user record under an optimistic check, retrying on conflict. */
export async function updateUser(
  kv: Deno.Kv,
  id: string,
  change: (u: User) => User,
): Promise<User> {
  return await conditionalWrite(`user ${id}`, async () => {
    const cur = await kv.get<User>(keys.user(id));
    if (!cur.value) throw new NotFoundError(`user ${id} not found`);
    const next = change(cur.value);
    return {
      write: () => kv.atomic().check(cur).set(keys.user(id), next),
      result: next,
    };
  });
}

/** At most this many devices per user; the oldest token goes first. */
export const MAX_PUSH_TOKENS = 20;

/** What a caller is told when the device it registers is another account's. */
export const DEVICE_OF_ANOTHER_ACCOUNT =
  "this device is registered to another account: sign out of that account in the app (which removes the device from it), then sign in and register again";

/**
 * Registers a device for a user. A device belongs to one user at a time, and
 * only signing out (`removePushTokens`) gives it up: a token another account
 * holds is a 409, never moved, so nobody can take someone's pushes by
 * sending their token. An index entry whose user no longer holds the token
 * (the user is gone, or dropped it) does not count.
 */
export async function addPushToken(
  kv: Deno.Kv,
  userId: string,
  token: string,
): Promise<User> {
  return await conditionalWrite(`user ${userId}`, async () => {
    const [cur, owner] = await kv.getMany<[User, string]>([
      keys.user(userId),
      keys.pushTokenOwner(token),
    ]);
    if (!cur.value) throw new NotFoundError(`user ${userId} not found`);
    const previous = owner.value && owner.value !== userId
      ? await kv.get<User>(keys.user(owner.value))
      : null;
    if (previous?.value?.pushTokens.includes(token)) {
      throw new ConflictError(DEVICE_OF_ANOTHER_ACCOUNT);
    }
    const next: User = {
      ...cur.value,
      pushTokens: [...cur.value.pushTokens.filter((t) => t !== token), token]
        .slice(-MAX_PUSH_TOKENS),
    };
    return {
      write: () => {
        const op = kv.atomic().check(cur, owner)
          .set(keys.user(userId), next)
          .set(keys.pushTokenOwner(token), userId);
        // The previous holder may register the device again meanwhile.
        if (previous) op.check(previous);
        return op;
      },
      result: next,
    };
  });
}

/**
 * Removes devices from a user (signing out in the app, or Expo saying the
 * token is gone), with the index entries that name this user as their
 * holder, so the device is free for the next account signed in on it.
 */
export async function removePushTokens(
  kv: Deno.Kv,
  userId: string,
  tokens: string[],
): Promise<User | null> {
  return await conditionalWrite<User | null>(`user ${userId}`, async () => {
    const cur = await kv.get<User>(keys.user(userId));
    if (!cur.value) return { done: null };
    const owners = await getManyChunked<string>(
      kv,
      [...new Set(tokens)].map((t) => keys.pushTokenOwner(t)),
    );
    const next: User = {
      ...cur.value,
      pushTokens: cur.value.pushTokens.filter((t) => !tokens.includes(t)),
    };
    return {
      write: () => {
        const op = kv.atomic().check(cur).set(keys.user(userId), next);
        for (const owner of owners) {
          if (owner.value === userId) op.check(owner).delete(owner.key);
        }
        return op;
      },
      result: next,
    };
  });
}

/** The role that counts: the stored role, or admin when the address is in ADMIN_EMAILS. */
export function effectiveRole(
  user: User,
  adminEmails: readonly string[],
): Role {
  return user.role === "admin" || adminEmails.includes(user.email.toLowerCase())
    ? "admin"
    : "user";
}
