import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../../../lib/context.ts";
import { cancelTarget } from "../../../../../../../lib/scheduler/cancel.ts";

export const handler: Handlers = {
  async POST(_req, ctx) {
    return Response.json(
      await cancelTarget(appContext(), ctx.params.id, ctx.params.targetId),
    );
  },
};
