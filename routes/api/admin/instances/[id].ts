import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../lib/context.ts";
import {
  parseOrThrow,
  readJson,
  UnprocessableError,
} from "../../../../lib/errors.ts";
import { getInstance, putInstance } from "../../../../lib/kv/instances.ts";
import { getUser } from "../../../../lib/kv/users.ts";
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
    // A new owner must exist; an instance already orphaned may still be edited.
    const existing = await getInstance(kv, id);
    if (
      existing?.ownerId !== input.ownerId && !(await getUser(kv, input.ownerId))
    ) {
      throw new UnprocessableError(
        `owner ${input.ownerId} is not a known user`,
        [
          { path: "ownerId", message: "no user has this id" },
        ],
      );
    }
    return Response.json(await putInstance(kv, id, input, now()));
  },
};
