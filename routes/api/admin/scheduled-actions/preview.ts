/** The dry run of `POST /api/admin/scheduled-actions`: the same body, nothing written. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { readJson } from "@/lib/web/request_body.ts";
import type { State } from "@/lib/request_state.ts";
import { PreviewRequestSchema } from "@/lib/scheduler/schemas.ts";
import { previewSchedule } from "@/lib/preview/preview.ts";
import { parseScheduleBody } from "@/lib/scheduler/schedule_checks.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req) {
    const ctx = appContext();
    const { skipPending, sampleOwnerId, ...input } = await parseScheduleBody(
      ctx,
      PreviewRequestSchema,
      await readJson(req),
    );
    return Response.json(
      await previewSchedule(ctx, input, {
        skipPending,
        sampleOwnerId,
        publicUrl: ctx.config.publicUrl,
      }),
    );
  },
};
