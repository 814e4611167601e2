import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../../../lib/context.ts";
import {
  parseOrThrow,
  readOptionalJson,
} from "../../../../../../../lib/errors.ts";
import { parseId } from "../../../../../../../lib/ids.ts";
import type { State } from "../../../../../../../lib/state.ts";
import { cancelTarget } from "../../../../../../../lib/scheduler/cancel.ts";
import { CancelInputSchema } from "../../../../../../../lib/scheduler/schemas.ts";
import { auditCancelTarget } from "../../../../../../../lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const targetId = parseId(ctx.params.targetId, "target id");
    const { reason } = parseOrThrow(
      CancelInputSchema,
      await readOptionalJson(req),
    );
    const result = await cancelTarget(appContext(), id, targetId);
    await auditCancelTarget(appContext(), ctx.state, result.target, reason);
    return Response.json(result);
  },
};
