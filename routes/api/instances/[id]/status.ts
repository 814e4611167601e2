/** The workspace's status and banner, for the instance's owner only. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { getInstance } from "@/lib/kv/instances.ts";
import { getBannerStatus } from "@/lib/notices/banner.ts";
import { postponeOffer } from "@/lib/owners/postpone_offer.ts";

export const handler: Handlers<unknown, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    const { kv, now } = appContext();
    const id = parseId(ctx.params.id, "instance id");
    const instance = await getInstance(kv, id);
    // Someone else's instance answers exactly like a missing one.
    if (!instance || instance.ownerId !== ctx.state.user.id) {
      throw new NotFoundError(`instance ${id} not found`);
    }
    const banner = await getBannerStatus(kv, instance.id, now());
    // Offered once the owner has been told of the change, as the banner shows it.
    const postpone = banner.scheduledAction
      ? await postponeOffer(kv, instance.id, instance.ownerId, now())
      : null;
    return Response.json({
      instanceId: instance.id,
      name: instance.name,
      status: instance.status,
      imageTag: instance.imageTag,
      ...banner,
      postpone,
    });
  },
};
