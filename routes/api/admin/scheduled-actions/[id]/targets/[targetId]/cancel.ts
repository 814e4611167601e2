import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../../../lib/context.ts";
import { parseId } from "../../../../../../../lib/ids.ts";
import { cancelTarget } from "../../../../../../../lib/scheduler/cancel.ts";

export const handler: Handlers = {
  async POST(_req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const targetId = parseId(ctx.params.targetId, "target id");
    return Response.json(await cancelTarget(appContext(), id, targetId));
  },
};
