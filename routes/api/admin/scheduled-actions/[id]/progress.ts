/**
 * What the action page shows, for its island to refresh: progress, notices,
 * one page of instances (`?cursor=` from the answer's `cursor`; `?targets=`
 * is the same, kept for older pages), all of them or those with `?outcome=`.
 */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { getActionView } from "@/lib/views/action_view.ts";
import { parseId } from "@/lib/ids.ts";
import { listCursor } from "@/lib/kv/cursor.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { ProgressQuerySchema } from "@/lib/views/action_reads.ts";

export const handler: Handlers = {
  async GET(req, ctx) {
    const { kv, config } = appContext();
    const params = new URL(req.url).searchParams;
    const cursor = params.get("cursor") || params.get("targets") || null;
    const { outcome } = parseOrThrow(
      ProgressQuerySchema,
      { outcome: params.get("outcome") || undefined },
      "query",
    );
    return Response.json(
      await getActionView(kv, parseId(ctx.params.id, "action id"), {
        targetCursor: listCursor(cursor) ?? null,
        outcome,
        pushViaOutbox: !config.pushViaExpo,
      }),
    );
  },
};
