import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { ScheduleRequestSchema } from "@/lib/scheduler/schemas.ts";
import { parseScheduleBody } from "@/lib/scheduler/schedule_checks.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { parseActionQuery, searchActions } from "@/lib/views/action_search.ts";
import { auditSchedule } from "@/lib/scheduler/audit.ts";

export const handler: Handlers<unknown, State> = {
  async GET(req) {
    const q = parseActionQuery(new URL(req.url).searchParams);
    return Response.json(await searchActions(appContext().kv, q));
  },
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const { skipPending, ...input } = await parseScheduleBody(
      appContext(),
      ScheduleRequestSchema,
      await readJson(req),
    );
    const result = await scheduleAction(appContext(), input, ctx.state.user, {
      skipPending,
    });
    await auditSchedule(appContext(), ctx.state, result);
    // A large action answers at once and is written in the background.
    return Response.json(result, {
      status: result.action.status === "preparing" ? 202 : 201,
    });
  },
};
