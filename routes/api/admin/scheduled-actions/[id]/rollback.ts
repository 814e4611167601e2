import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readOptionalJson } from "@/lib/web/request_body.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import {
  assertSignedIn,
  auditActorOf,
  type State,
} from "@/lib/request_state.ts";
import {
  rollbackAction,
  RolloutReasonSchema,
} from "@/lib/scheduler/rollout_controls.ts";

/** Rolls back a version change's applied waves: 201 with the new action. */
export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "action id");
    const deps = appContext();
    const { reason } = parseOrThrow(
      RolloutReasonSchema,
      await readOptionalJson(req),
    );
    const result = await rollbackAction(
      deps,
      id,
      reason,
      ctx.state.user,
      auditActorOf(ctx.state),
    );
    return Response.json(result, {
      status: 201,
      headers: {
        location: `/api/admin/scheduled-actions/${
          encodeURIComponent(result.id)
        }`,
      },
    });
  },
};
