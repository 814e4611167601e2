import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { parseId } from "@/lib/ids.ts";
import { cancelActionAsAdmin } from "@/lib/scheduler/cancel_with_reason.ts";
import { readCancelReason } from "@/lib/scheduler/schemas.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "action id");
    const reason = await readCancelReason(req);
    return Response.json(
      await cancelActionAsAdmin(appContext(), ctx.state, id, reason),
    );
  },
};
