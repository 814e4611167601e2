import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { parseScheduleBody } from "@/lib/scheduler/schedule_checks.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import { RescheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { rescheduleAction } from "@/lib/scheduler/reschedule.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import { auditReschedule } from "@/lib/scheduler/audit.ts";
import { auditActorOf } from "@/lib/request_state.ts";

/** Moves an action: 200 with the action as `GET …/:id` shows it, and what the move did. */
export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const deps = appContext();
    const input = await parseScheduleBody(
      deps,
      RescheduleInputSchema,
      await readJson(req),
    );
    const report = await rescheduleAction(deps, id, input);
    await auditReschedule(deps, auditActorOf(ctx.state), id, {
      scheduledAt: [report.from, report.to],
      noticeLeadHours: [report.noticeLeadHours.from, report.noticeLeadHours.to],
      moved: report.moved,
      notMoved: report.notMovedCount,
      inFlight: report.inFlight,
    }, input.reason);
    const detail = await getActionDetail(deps.kv, id, {});
    return Response.json({ ...detail, reschedule: report });
  },
};
