/** A maintenance's calendar event at its signed link: no sign-in needed. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { isId } from "@/lib/ids.ts";
import { readCalendar } from "@/lib/calendar.ts";
import { workspaceUrl } from "@/lib/channels/email_render.ts";

const FILE = /^([A-Za-z0-9_-]{1,64})\.ics$/;

export const handler: Handlers = {
  async GET(_req, ctx) {
    const token = FILE.exec(ctx.params.file)?.[1];
    const targetId = ctx.params.targetId;
    if (!token || !isId(targetId)) {
      return new Response("Not found\n", { status: 404 });
    }
    const { kv, now, config } = appContext();
    const answer = await readCalendar(kv, targetId, token, {
      now: now(),
      workspaceUrl: (id) => workspaceUrl(config.publicUrl, id),
    });
    if (answer.status === 404) {
      return new Response("Not found\n", { status: 404 });
    }
    if (answer.status === 410) {
      return new Response("This maintenance is over.\n", { status: 410 });
    }
    return new Response(answer.body, {
      headers: {
        "content-type": "text/calendar; charset=utf-8",
        "content-disposition":
          'attachment; filename="kiloclaw-maintenance.ics"',
      },
    });
  },
};
