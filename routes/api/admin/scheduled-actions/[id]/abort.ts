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
  abortAction,
  RolloutReasonSchema,
} from "@/lib/scheduler/rollout_controls.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";

/** Aborts a rollout: what is not changed yet is cancelled; 200 with the action as `GET …/:id` shows it. */
export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "action id");
    const deps = appContext();
    const { reason } = parseOrThrow(
      RolloutReasonSchema,
      await readOptionalJson(req),
    );
    await abortAction(
      deps,
      id,
      reason,
      ctx.state.user,
      auditActorOf(ctx.state),
    );
    return Response.json(await getActionDetail(deps.kv, id, {}));
  },
};
