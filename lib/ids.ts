/**
 * Ids: how the app makes them, and the one shape every id from outside must
 * have before it is used in a KV key (path segments, query strings, bodies).
 * Anything else is a 400 that says what an id looks like, never a KV error.
 */
import { z } from "zod";
import { v7 } from "uuid";
import { BadRequestError } from "./errors.ts";

/** Time-ordered UUIDv7: key order in KV follows creation order. */
export function newId(): string {
  return v7();
}

/** Far below KV's 2 KiB key limit, with room for the rest of any key. */
export const ID_MAX_LENGTH = 128;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
export const ID_RULE =
  "must be 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

/** The actor recorded on actions taken with the admin API token: no user may have this id. */
export const API_TOKEN_ACTOR_ID = "api-token";

export function isId(value: unknown): value is string {
  return typeof value === "string" && value.length <= ID_MAX_LENGTH &&
    ID_PATTERN.test(value);
}

/** Any id that arrives from outside: instance, user, action, target, outbox message. */
export const IdSchema = z.string().refine(isId, ID_RULE);

/** A new user's id: an id, and not one reserved for the system. */
export const UserIdSchema = IdSchema.refine(
  (id) => id.toLowerCase() !== API_TOKEN_ACTOR_ID,
  `"${API_TOKEN_ACTOR_ID}" is reserved for the admin API token`,
);

/** Checks a path or query id; `what` names it in the answer ("instance id"). */
export function parseId(
  raw: string | null | undefined,
  what: string,
  schema: z.ZodType<string> = IdSchema,
): string {
  const r = schema.safeParse(raw ?? "");
  if (r.success) return r.data;
  const message = r.error.issues[0]?.message ?? ID_RULE;
  throw new BadRequestError(`invalid ${what}: ${message}`, [
    {
      path: what.replace(/\s+(\w)/g, (_, c: string) => c.toUpperCase()),
      message,
    },
  ]);
}
