import { type Config, isKvConnectUrl } from "../config.ts";

/** Deno KV's limits on one atomic operation. */
export const MAX_CHECKS = 100;
export const MAX_MUTATIONS = 1000;

/**
 * Opens KV from the configured path: a local file (its folder created),
 * ":memory:", or a KV Connect URL (Deno reads DENO_KV_ACCESS_TOKEN itself).
 * null = Deno Deploy's KV.
 */
export async function openKv(config: Pick<Config, "kvPath">): Promise<Deno.Kv> {
  const path = config.kvPath;
  if (path && path !== ":memory:" && !isKvConnectUrl(path)) {
    const dir = path.replace(/[\\/][^\\/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  }
  return await Deno.openKv(path ?? undefined);
}

/**
 * Commits an atomic operation, retrying when the local SQLite file is busy
 * ("database is locked"). A failed check (`ok: false`) is returned, not retried.
 */
export async function commitRetrying(
  build: () => Deno.AtomicOperation,
  attempts = 8,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  for (let i = 0;; i++) {
    try {
      return await build().commit();
    } catch (err) {
      if (i >= attempts - 1 || !isTransientKvError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** i + Math.random() * 10));
    }
  }
}

export function isTransientKvError(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /database is locked|busy|timed out|Transaction conflict/i.test(msg);
}
