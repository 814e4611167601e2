/** "Run notice sweep now": the same sweep the minute cron runs, answered with its counts. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { sweepNow } from "@/lib/jobs.ts";

export const handler: Handlers = {
  async POST() {
    return Response.json(await sweepNow(appContext()));
  },
};
