/** The OpenAPI document of every `/api` route: no sign-in, it describes and exposes no data. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { openApiDocument } from "@/lib/openapi/document.ts";

export const handler: Handlers = {
  GET() {
    return Response.json(openApiDocument(appContext().config.publicUrl));
  },
};
