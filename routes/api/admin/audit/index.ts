import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { AuditQuerySchema, listAudit } from "@/lib/kv/audit.ts";

export const handler: Handlers = {
  async GET(req) {
    const q = parseOrThrow(
      AuditQuerySchema,
      Object.fromEntries(new URL(req.url).searchParams),
      "query",
    );
    return Response.json(await listAudit(appContext().kv, q));
  },
};
