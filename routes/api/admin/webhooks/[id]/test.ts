import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseId } from "@/lib/ids.ts";
import { testWebhook } from "@/lib/webhooks/admin.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async POST(_req, ctx) {
    const id = parseId(ctx.params.id, "webhook id");
    return Response.json(await testWebhook(appContext(), ctx.state, id), {
      status: 201,
    });
  },
};
