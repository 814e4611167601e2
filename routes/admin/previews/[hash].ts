/** A schedule review's email HTML, for its sandboxed frame (lib/web/security.ts gives this path the email-frame CSP). */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { getEmailPreview } from "@/lib/preview/email_preview.ts";
import { NotFoundError } from "@/lib/errors.ts";

export const handler: Handlers = {
  async GET(_req, ctx) {
    const html = await getEmailPreview(appContext().kv, ctx.params.hash);
    if (html === null) {
      throw new NotFoundError("this preview has expired: review again");
    }
    return new Response(html, {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  },
};
