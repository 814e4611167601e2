/**
 * Ending every session of a user: KV work that deleting the user (or signing
 * them out everywhere) does, kept in storage so users.ts needs nothing of sign-in.
 */
import { keys } from "./keys.ts";
import { commitRetrying } from "./db.ts";

/** KV takes at most 1,000 mutations an operation; two per session. */
const SESSIONS_PER_COMMIT = 400;

/** Ends every session of a user (deleting the user, or signing them out everywhere). */
export async function deleteSessionsOfUser(
  kv: Deno.Kv,
  userId: string,
): Promise<number> {
  let hashes: string[] = [];
  let deleted = 0;
  const flush = async () => {
    const batch = hashes;
    hashes = [];
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const h of batch) {
        op.delete(keys.session(h)).delete(keys.sessionByUser(userId, h));
      }
      return op;
    });
    deleted += batch.length;
  };
  for await (const e of kv.list({ prefix: keys.sessionsByUser(userId) })) {
    hashes.push(e.key[2] as string);
    if (hashes.length === SESSIONS_PER_COMMIT) await flush();
  }
  if (hashes.length) await flush();
  return deleted;
}
