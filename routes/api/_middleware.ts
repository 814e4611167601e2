/**
 * User-facing JSON endpoints need a signed-in user; admin routes have their
 * own gate, internal routes check their secret, and the OpenAPI document is
 * public (it describes the API and exposes no data). Bodies are JSON only.
 */
import type { FreshContext } from "$fresh/server.ts";
import { UnauthorizedError } from "@/lib/errors.ts";
import { refuseNonJson } from "@/lib/auth/json_only.ts";
import { requireInternalSecret } from "@/lib/auth/internal.ts";
import { appContext } from "@/lib/app_context.ts";
import type { State } from "@/lib/request_state.ts";

const ADMIN = /^\/api\/admin(\/|$)/;
const INTERNAL = /^\/api\/internal(\/|$)/;
const PUBLIC = /^\/api\/openapi\.json$/;

export async function handler(req: Request, ctx: FreshContext<State>) {
  const path = ctx.url.pathname;
  if (ADMIN.test(path)) return await ctx.next();
  if (PUBLIC.test(path) && ctx.destination === "route") return await ctx.next();
  if (INTERNAL.test(path)) {
    // The route checks the secret itself; a path no route serves asks for it here.
    if (ctx.destination !== "route") {
      await requireInternalSecret(req, appContext().config.internalApiSecret);
    }
    return await ctx.next();
  }
  if (!ctx.state.user) throw new UnauthorizedError();
  refuseNonJson(req);
  return await ctx.next();
}
