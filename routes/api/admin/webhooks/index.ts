import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { listWebhooks, registerWebhook } from "@/lib/webhooks/admin.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async GET() {
    return Response.json(await listWebhooks(appContext()));
  },
  async POST(req, ctx) {
    const created = await registerWebhook(
      appContext(),
      ctx.state,
      await readJson(req),
    );
    return Response.json(created, { status: 201 });
  },
};
