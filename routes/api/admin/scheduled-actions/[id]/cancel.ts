import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../lib/context.ts";
import { parseId } from "../../../../../lib/ids.ts";
import { cancelAction } from "../../../../../lib/scheduler/cancel.ts";

export const handler: Handlers = {
  async POST(_req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    return Response.json(await cancelAction(appContext(), id));
  },
};
