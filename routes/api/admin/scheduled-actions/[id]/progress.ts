/** What the action page shows, for its island to refresh: progress, notices, instances. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { getActionView } from "@/lib/scheduler/action_view.ts";
import { parseId } from "@/lib/ids.ts";

export const handler: Handlers = {
  async GET(req, ctx) {
    const { kv, config } = appContext();
    const cursor = new URL(req.url).searchParams.get("targets");
    return Response.json(
      await getActionView(kv, parseId(ctx.params.id, "action id"), {
        targetCursor: cursor && cursor.length <= 1000 ? cursor : null,
        pushViaOutbox: !config.pushViaExpo,
      }),
    );
  },
};
