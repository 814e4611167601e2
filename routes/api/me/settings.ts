/**
 * The signed-in user's own settings: time zone, maintenance window, warning
 * channels, push quiet hours. There is no user id in the path, so nobody can
 * write anyone else's (an admin edits a user's through the users page).
 */
import type { Handlers } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { parseOrThrow } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { OwnerSettingsSchema } from "@/lib/owners/settings_schema.ts";
import { getOwnerSettings, putOwnerSettings } from "@/lib/owners/settings.ts";

export const handler: Handlers<unknown, State> = {
  async GET(_req, ctx) {
    assertSignedIn(ctx.state);
    return Response.json(
      await getOwnerSettings(appContext().kv, ctx.state.user.id),
    );
  },
  async PUT(req, ctx) {
    assertSignedIn(ctx.state);
    const input = parseOrThrow(OwnerSettingsSchema, await readJson(req));
    const { kv, now } = appContext();
    return Response.json(
      await putOwnerSettings(kv, ctx.state.user.id, input, now()),
    );
  },
};
