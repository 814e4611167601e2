import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import {
  CatalogPutSchema,
  ImageTagSchema,
  putCatalogEntry,
} from "@/lib/kv/catalog.ts";
import { catalogAudit } from "@/lib/scheduler/audit.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async PUT(req, ctx) {
    const tag = parseOrThrow(
      ImageTagSchema,
      ctx.params.imageTag,
      "image tag",
    );
    const input = parseOrThrow(CatalogPutSchema, await readJson(req));
    const { kv, now } = appContext();
    return Response.json(
      await putCatalogEntry(
        kv,
        tag,
        input,
        now(),
        catalogAudit(ctx.state, now()),
      ),
    );
  },
};
