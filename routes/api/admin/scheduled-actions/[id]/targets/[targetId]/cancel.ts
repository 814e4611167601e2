import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { parseId } from "@/lib/ids.ts";
import { cancelTargetAsAdmin } from "@/lib/scheduler/cancel_with_reason.ts";
import { readCancelReason } from "@/lib/scheduler/schemas.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "action id");
    const targetId = parseId(ctx.params.targetId, "target id");
    const reason = await readCancelReason(req);
    return Response.json(
      await cancelTargetAsAdmin(appContext(), ctx.state, id, targetId, reason),
    );
  },
};
