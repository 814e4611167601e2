/** User-facing JSON endpoints need a signed-in user; admin and internal routes have their own gates. */
import type { FreshContext } from "$fresh/server.ts";
import { UnauthorizedError } from "../../lib/errors.ts";
import type { State } from "../../lib/state.ts";

export function handler(_req: Request, ctx: FreshContext<State>) {
  const path = ctx.url.pathname;
  if (
    !path.startsWith("/api/admin/") && !path.startsWith("/api/internal/") &&
    !ctx.state.user
  ) {
    throw new UnauthorizedError();
  }
  return ctx.next();
}
