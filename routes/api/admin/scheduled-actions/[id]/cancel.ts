import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../lib/context.ts";
import type { State } from "../../../../../lib/state.ts";
import { parseId } from "../../../../../lib/ids.ts";
import { cancelActionBy } from "../../../../../lib/scheduler/cancellations.ts";
import { readCancelReason } from "../../../../../lib/scheduler/schemas.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const reason = await readCancelReason(req);
    return Response.json(
      await cancelActionBy(appContext(), id, ctx.state.user!, reason),
    );
  },
};
