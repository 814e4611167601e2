import type { Handlers } from "$fresh/server.ts";
import { z } from "zod";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import {
  getActionDetail,
  MAX_TARGET_PAGE,
  OutcomeQuerySchema,
} from "@/lib/views/action_reads.ts";

/** Paging and filtering the action's targets; the OpenAPI document reads it too. */
export const ActionDetailQuerySchema = z.object({
  targetCursor: z.string().max(1000).optional(),
  targetLimit: z.coerce.number().int().min(1).max(MAX_TARGET_PAGE).optional(),
  outcome: OutcomeQuerySchema.optional(),
});

export const handler: Handlers = {
  async GET(req, ctx) {
    const id = parseId(ctx.params.id, "action id");
    const q = parseOrThrow(
      ActionDetailQuerySchema,
      Object.fromEntries(new URL(req.url).searchParams),
      "query",
    );
    return Response.json(await getActionDetail(appContext().kv, id, q));
  },
};
