/** The last sweep's counts, time and duration (`null` before the first run). */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { getLastSweepRun } from "@/lib/notices/sweep.ts";

export const handler: Handlers = {
  async GET() {
    return Response.json(await getLastSweepRun(appContext().kv));
  },
};
