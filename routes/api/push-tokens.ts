/** Signed-in users register and remove the Expo push tokens of their devices. */
import type { Handlers } from "$fresh/server.ts";
import { z } from "zod";
import { parseOrThrow } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { assertSignedIn, type State } from "@/lib/request_state.ts";
import { appContext } from "@/lib/app_context.ts";
import { addPushToken, removePushTokens } from "@/lib/kv/users.ts";
import { EXPO_PUSH_TOKEN } from "@/lib/channels/expo.ts";

/** The body of both methods; the OpenAPI document reads it too. */
export const PushTokenBodySchema = z.strictObject({
  token: z.string().trim().regex(
    EXPO_PUSH_TOKEN,
    'expected an Expo push token such as "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"',
  ),
});

export const handler: Handlers<unknown, State> = {
  async POST(req, ctx) {
    assertSignedIn(ctx.state);
    const { token } = parseOrThrow(PushTokenBodySchema, await readJson(req));
    const user = await addPushToken(appContext().kv, ctx.state.user.id, token);
    return Response.json({ token, devices: user.pushTokens.length });
  },

  /** The token comes in the JSON body, or as `?token=` for clients that send no DELETE body. */
  async DELETE(req, ctx) {
    assertSignedIn(ctx.state);
    const query = new URL(req.url).searchParams.get("token");
    const { token } = parseOrThrow(
      PushTokenBodySchema,
      query !== null ? { token: query } : await readJson(req),
    );
    const had = ctx.state.user.pushTokens.includes(token);
    const user = await removePushTokens(appContext().kv, ctx.state.user.id, [
      token,
    ]);
    return Response.json({
      token,
      removed: had,
      devices: user?.pushTokens.length ?? 0,
    });
  },
};
