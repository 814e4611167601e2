import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../../lib/context.ts";
import { parseOrThrow, readOptionalJson } from "../../../../../lib/errors.ts";
import { parseId } from "../../../../../lib/ids.ts";
import type { State } from "../../../../../lib/state.ts";
import { cancelAction } from "../../../../../lib/scheduler/cancel.ts";
import { getAction } from "../../../../../lib/kv/actions.ts";
import { CancelInputSchema } from "../../../../../lib/scheduler/schemas.ts";
import { auditCancelAction } from "../../../../../lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const { reason } = parseOrThrow(
      CancelInputSchema,
      await readOptionalJson(req),
    );
    const before = (await getAction(appContext().kv, id))?.status ?? null;
    const result = await cancelAction(appContext(), id);
    await auditCancelAction(
      appContext(),
      ctx.state,
      before,
      result.action,
      reason,
    );
    return Response.json(result);
  },
};
