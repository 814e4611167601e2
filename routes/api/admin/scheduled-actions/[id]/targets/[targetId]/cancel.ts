import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../../../lib/context.ts";
import type { State } from "../../../../../../../lib/state.ts";
import { parseId } from "../../../../../../../lib/ids.ts";
import { cancelTargetBy } from "../../../../../../../lib/scheduler/cancellations.ts";
import { readCancelReason } from "../../../../../../../lib/scheduler/schemas.ts";
import { auditCancelTarget } from "../../../../../../../lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const targetId = parseId(ctx.params.targetId, "target id");
    const reason = await readCancelReason(req);
    const app = appContext();
    const result = await cancelTargetBy(
      app,
      id,
      targetId,
      ctx.state.user!,
      reason,
    );
    await auditCancelTarget(app, ctx.state, result.target, reason);
    return Response.json(result);
  },
};
