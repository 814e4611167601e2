import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readOptionalJson } from "@/lib/web/request_body.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import { auditActorOf, type State } from "@/lib/request_state.ts";
import {
  resumeAction,
  ResumeInputSchema,
} from "@/lib/scheduler/rollout_controls.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";

/** Resumes a paused rollout: 200 with the action as `GET …/:id` shows it, and what the resume moved. */
export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const deps = appContext();
    const input = parseOrThrow(ResumeInputSchema, await readOptionalJson(req));
    const report = await resumeAction(deps, id, input, auditActorOf(ctx.state));
    const detail = await getActionDetail(deps.kv, id, {});
    return Response.json({
      ...detail,
      resume: {
        from: report.from,
        to: report.to,
        moved: report.moved,
        inFlight: report.inFlight,
      },
    });
  },
};
