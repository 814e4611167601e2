import type { Handlers } from "$fresh/server.ts";
import { appContext } from "../../../../lib/context.ts";
import {
  NotFoundError,
  parseOrThrow,
  readJson,
} from "../../../../lib/errors.ts";
import { deleteUser, putUser } from "../../../../lib/kv/users.ts";
import {
  PathIdSchema,
  UserPutSchema,
} from "../../../../lib/scheduler/admin_schemas.ts";

export const handler: Handlers = {
  async PUT(req, ctx) {
    const id = parseOrThrow(PathIdSchema, ctx.params.id, "user id");
    const input = parseOrThrow(UserPutSchema, await readJson(req));
    const { kv, now } = appContext();
    return Response.json(await putUser(kv, id, input, now()));
  },
  async DELETE(_req, ctx) {
    if (!(await deleteUser(appContext().kv, ctx.params.id))) {
      throw new NotFoundError(`user ${ctx.params.id} not found`);
    }
    return Response.json({ deleted: true, id: ctx.params.id });
  },
};
