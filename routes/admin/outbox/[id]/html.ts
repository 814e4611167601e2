/** A stored email's HTML, for the sandboxed frame (lib/web/security.ts gives this path its own strict CSP). */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { getOutboxMessage } from "@/lib/channels/outbox.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async GET(_req, ctx) {
    const m = await getOutboxMessage(
      appContext().kv,
      parseId(ctx.params.id, "message id"),
      ctx.state.user,
    );
    if (!m || m.kind !== "email") throw new NotFoundError("no such email");
    return new Response(m.html, {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  },
};
