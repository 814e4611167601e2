/** Admin API: an admin session, or `Authorization: Bearer $ADMIN_API_TOKEN` (constant-time compare). */
import type { FreshContext } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { secretsEqual } from "@/lib/auth/compare.ts";
import { refuseNonJson } from "@/lib/auth/json_only.ts";
import { ForbiddenError, UnauthorizedError } from "@/lib/errors.ts";
import { API_TOKEN_USER, type State } from "@/lib/request_state.ts";

export async function handler(req: Request, ctx: FreshContext<State>) {
  const auth = req.headers.get("authorization");
  if (auth !== null) {
    const token = auth.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? "";
    const expected = appContext().config.adminApiToken;
    if (!expected || !token || !(await secretsEqual(token, expected))) {
      throw new UnauthorizedError("invalid API token");
    }
    ctx.state.user = API_TOKEN_USER;
    ctx.state.role = "admin";
  } else {
    if (!ctx.state.user) throw new UnauthorizedError();
    if (ctx.state.role !== "admin") throw new ForbiddenError();
  }
  refuseNonJson(req);
  return await ctx.next();
}
