import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../lib/context.ts";
import { cancelAction } from "../../../../../lib/scheduler/cancel.ts";

export const handler: Handlers = {
  async POST(_req, ctx) {
    return Response.json(await cancelAction(appContext(), ctx.params.id));
  },
};
