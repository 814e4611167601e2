/** "Run notice sweep now": the same sweep the minute cron runs, answered with its counts. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../lib/context.ts";
import { sweep } from "../../../../lib/notices/sweep.ts";
import { log } from "../../../../lib/log.ts";

export const handler: Handlers = {
  async POST() {
    const { kv, dispatchers, now } = appContext();
    return Response.json(
      await sweep({ kv, dispatchers, now, log: log.info }),
    );
  },
};
