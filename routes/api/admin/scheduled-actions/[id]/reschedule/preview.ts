/** The dry run of a move: the same body as `…/:id/reschedule`, nothing written. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { parseScheduleBody } from "@/lib/scheduler/schedule_checks.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import { RescheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { previewMove } from "@/lib/preview/move_preview.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const deps = appContext();
    const input = await parseScheduleBody(
      deps,
      RescheduleInputSchema,
      await readJson(req),
    );
    return Response.json(
      await previewMove(deps, id, input, deps.config.publicUrl),
    );
  },
};
