// `$fresh/server.ts`: the Fresh 1.x server API on top of Hono.
import type {
  AsyncLayout,
  AsyncRoute,
  FreshConfig,
  Manifest,
} from "./types.ts";
import { createHandler } from "./handler.ts";

export { createHandler };
export type * from "./types.ts";

/** Serves the app with Deno.serve until `config.signal` aborts. */
export async function start(
  manifest: Manifest,
  config: FreshConfig = {},
): Promise<void> {
  const handler = await createHandler(manifest, config);
  const server = Deno.serve({
    ...config.server,
    port: config.port ?? config.server?.port ?? 8000,
    hostname: config.hostname ?? config.server?.hostname,
    signal: config.signal ?? config.server?.signal,
    onListen: config.onListen ?? config.server?.onListen,
  }, handler);
  await server.finished;
}

/** Identity helpers that give an async route, app or layout its types. */
export function defineRoute<State = Record<string, unknown>>(
  fn: AsyncRoute<void, State>,
): AsyncRoute<void, State> {
  return fn;
}
export function defineApp<State = Record<string, unknown>>(
  fn: AsyncLayout<void, State>,
): AsyncLayout<void, State> {
  return fn;
}
export function defineLayout<State = Record<string, unknown>>(
  fn: AsyncLayout<void, State>,
): AsyncLayout<void, State> {
  return fn;
}
