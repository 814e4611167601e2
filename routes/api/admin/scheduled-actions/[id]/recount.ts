import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { parseId } from "@/lib/ids.ts";
import { recountAction } from "@/lib/notices/recount.ts";
import { auditRecount } from "@/lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async POST(_req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "action id");
    const report = await recountAction(appContext().kv, id);
    await auditRecount(appContext(), ctx.state, report);
    return Response.json(report);
  },
};
