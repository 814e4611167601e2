/** Admin pages: anonymous users were sent to sign in by the root middleware; others need the admin role. */
import type { FreshContext } from "$fresh/server.ts";
import { ForbiddenError } from "@/lib/errors.ts";
import type { State } from "@/lib/request_state.ts";

export function handler(_req: Request, ctx: FreshContext<State>) {
  if (ctx.state.role !== "admin") {
    throw new ForbiddenError("This page is for admins.");
  }
  return ctx.next();
}
