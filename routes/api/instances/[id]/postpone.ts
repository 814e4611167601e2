/** The owner postpones their instance's change: 200 with its new time and the postpones left. */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseId } from "@/lib/ids.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import {
  PostponeInputSchema,
  postponeInstance,
} from "@/lib/scheduler/postpone.ts";

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const id = parseId(ctx.params.id, "instance id");
    const input = parseOrThrow(PostponeInputSchema, await readJson(req));
    return Response.json(
      await postponeInstance(appContext(), id, ctx.state.user, input),
    );
  },
};
