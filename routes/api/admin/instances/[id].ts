import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow, UnprocessableError } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { parseId } from "@/lib/ids.ts";
import {
  getInstance,
  InstancePutSchema,
  putInstance,
} from "@/lib/kv/instances.ts";
import { requireCatalogTags } from "@/lib/kv/catalog.ts";
import { getUser } from "@/lib/kv/users.ts";
import { getInstanceDetail } from "@/lib/views/instance_reads.ts";
import { instanceAudit } from "@/lib/scheduler/audit.ts";
import type { State } from "@/lib/request_state.ts";

export const handler: Handlers<unknown, State> = {
  async GET(_req, ctx) {
    const id = parseId(ctx.params.id, "instance id");
    return Response.json(await getInstanceDetail(appContext().kv, id));
  },
  async PUT(req, ctx) {
    const id = parseId(ctx.params.id, "instance id");
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
    await requireCatalogTags(kv, {
      imageTag: input.imageTag,
      pinnedImageTag: input.pinnedImageTag ?? null,
    });
    return Response.json(
      await putInstance(
        kv,
        id,
        input,
        now(),
        instanceAudit(ctx.state, now()),
      ),
    );
  },
};
