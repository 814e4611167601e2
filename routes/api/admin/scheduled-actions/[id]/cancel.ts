import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../lib/context.ts";
import type { State } from "../../../../../lib/state.ts";
import { parseId } from "../../../../../lib/ids.ts";
import { getAction } from "../../../../../lib/kv/actions.ts";
import { cancelActionBy } from "../../../../../lib/scheduler/cancellations.ts";
import { readCancelReason } from "../../../../../lib/scheduler/schemas.ts";
import { auditCancelAction } from "../../../../../lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const reason = await readCancelReason(req);
    const app = appContext();
    const before = (await getAction(app.kv, id))?.status ?? null;
    const result = await cancelActionBy(app, id, ctx.state.user!, reason);
    await auditCancelAction(app, ctx.state, before, result.action, reason);
    return Response.json(result);
  },
};
