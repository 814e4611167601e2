/** Admin API: an admin session, or `Authorization: Bearer $ADMIN_API_TOKEN` (constant-time compare). */
import type { FreshContext } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { requireApiToken } from "@/lib/auth/api_token.ts";
import { refuseNonJson } from "@/lib/auth/json_only.ts";
import { ForbiddenError, UnauthorizedError } from "@/lib/errors.ts";
import { API_TOKEN_USER, type State } from "@/lib/request_state.ts";

export async function handler(req: Request, ctx: FreshContext<State>) {
  const auth = req.headers.get("authorization");
  if (auth !== null) {
    await requireApiToken(auth, appContext().config.adminApiToken);
    ctx.state.user = API_TOKEN_USER;
    ctx.state.role = "admin";
  } else {
    if (!ctx.state.user) throw new UnauthorizedError();
    if (ctx.state.role !== "admin") throw new ForbiddenError();
  }
  refuseNonJson(req);
  return await ctx.next();
}
