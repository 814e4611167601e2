import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../lib/context.ts";
import { parseOrThrow, readJson } from "../../../../lib/errors.ts";
import { putInstance } from "../../../../lib/kv/instances.ts";
import {
  InstancePutSchema,
  PathIdSchema,
} from "../../../../lib/scheduler/admin_schemas.ts";
import { getInstanceDetail } from "../../../../lib/scheduler/read.ts";

export const handler: Handlers = {
  async GET(_req, ctx) {
    return Response.json(
      await getInstanceDetail(appContext().kv, ctx.params.id),
    );
  },
  async PUT(req, ctx) {
    const id = parseOrThrow(PathIdSchema, ctx.params.id, "instance id");
    const input = parseOrThrow(InstancePutSchema, await readJson(req));
    const { kv, now } = appContext();
    return Response.json(await putInstance(kv, id, input, now()));
  },
};
