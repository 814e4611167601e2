import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { NotFoundError, parseOrThrow } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { parseId, UserIdSchema } from "@/lib/ids.ts";
import { deleteUser, putUser, UserPutSchema } from "@/lib/kv/users.ts";
import { userAudit, userDeleteAudit } from "@/lib/scheduler/audit.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async PUT(req, ctx) {
    const id = parseId(ctx.params.id, "user id", UserIdSchema);
    const input = parseOrThrow(UserPutSchema, await readJson(req));
    const { kv, now } = appContext();
    return Response.json(
      await putUser(kv, id, input, now(), userAudit(ctx.state, now())),
    );
  },
  /** Deletes the user and ends every session they had. */
  async DELETE(_req, ctx) {
    const id = parseId(ctx.params.id, "user id");
    const { kv, now } = appContext();
    if (!(await deleteUser(kv, id, userDeleteAudit(ctx.state, now())))) {
      throw new NotFoundError(`user ${id} not found`);
    }
    return Response.json({ deleted: true, id });
  },
};
