import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseId } from "@/lib/ids.ts";
import { removeWebhook, webhookWithLog } from "@/lib/webhooks/admin.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async GET(_req, ctx) {
    const id = parseId(ctx.params.id, "webhook id");
    return Response.json(await webhookWithLog(appContext(), id));
  },
  async DELETE(_req, ctx) {
    const id = parseId(ctx.params.id, "webhook id");
    await removeWebhook(appContext(), ctx.state, id);
    return new Response(null, { status: 204 });
  },
};
