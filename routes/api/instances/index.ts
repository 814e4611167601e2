/**
 * The signed-in owner's instances, one page (`?page=`, 50 a page), each with
 * what its workspace banner says: what the list on `/` refreshes from, in one
 * request however many cards it shows.
 */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { BadRequestError } from "@/lib/errors.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { getOwnInstances } from "@/lib/views/instance_reads.ts";

export const handler: Handlers<unknown, State> = {
  async GET(req, ctx) {
    assertSignedIn(ctx.state);
    const raw = new URL(req.url).searchParams.get("page") ?? "1";
    const page = Number(raw);
    if (!/^\d{1,6}$/.test(raw) || page < 1) {
      throw new BadRequestError("invalid page: give a whole number from 1", [
        { path: "page", message: "is not a whole number from 1" },
      ]);
    }
    const { kv, now } = appContext();
    const { result, coming, versions } = await getOwnInstances(
      kv,
      ctx.state.user.id,
      page,
      now(),
    );
    return Response.json({
      items: result.items.map((i) => ({
        instanceId: i.id,
        name: i.name,
        status: i.status,
        imageTag: i.imageTag,
        openclawVersion: versions[i.imageTag] ?? null,
        scheduledAction: coming[i.id]?.scheduledAction ?? null,
        ...(coming[i.id]?.cancelledAction
          ? { cancelledAction: coming[i.id].cancelledAction }
          : {}),
      })),
      page: result.page,
      pages: result.pages,
    });
  },
};
