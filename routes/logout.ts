/** Sign-out deletes the session, so the old cookie stops working everywhere. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { clearSessionCookie, deleteSession } from "@/lib/auth/sessions.ts";
import { redirect } from "@/lib/web/http.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async POST(_req, ctx) {
    const { kv, config } = appContext();
    if (ctx.state.sessionId) await deleteSession(kv, ctx.state.sessionId);
    return redirect("/login", {
      "set-cookie": clearSessionCookie(config.secureCookies),
    });
  },
};
