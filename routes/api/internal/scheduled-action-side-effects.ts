/**
 * Sends one notification's email for another deployment's sweep. A thin
 * adapter over the sender the sweep uses in-process: same rendering, same
 * idempotency key per row. It sends only a row the caller's claim holds
 * (409 otherwise, with the reason), and a repeated call for the same claim
 * gets the first answer without a second send.
 */
import type { Handlers } from "$fresh/server.ts";
import {
  AppError,
  BadRequestError,
  ConflictError,
  parseOrThrow,
  UnprocessableError,
} from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";
import { appContext } from "@/lib/app_context.ts";
import { requireInternalSecret } from "@/lib/auth/internal.ts";
import {
  sendNotificationEmail,
  SideEffectRequestSchema,
} from "@/lib/channels/side_effects.ts";

export const handler: Handlers = {
  async POST(req) {
    const { config, kv, email, now } = appContext();
    await requireInternalSecret(req, config.internalApiSecret);
    const body = parseOrThrow(SideEffectRequestSchema, await readJson(req));
    if (body.channel !== "email") {
      throw new BadRequestError(
        `channel "${body.channel}" is not sent through this route; only "email" is`,
      );
    }
    const result = await sendNotificationEmail(
      { kv, email, publicUrl: config.publicUrl, now },
      body.notificationId,
      body.claimId,
      req.signal,
    );
    if (result.status === "sent") return Response.json({ sent: true });
    if (result.status === "not_held") throw new ConflictError(result.error);
    if (result.status === "wrong_channel") {
      throw new BadRequestError(result.error);
    }
    if (result.status === "unprocessable") {
      throw new UnprocessableError(result.error);
    }
    if (result.retryAfterMs !== undefined) {
      return Response.json({ error: result.error }, {
        status: 502,
        headers: {
          "retry-after": String(Math.ceil(result.retryAfterMs / 1000)),
        },
      });
    }
    throw new AppError(502, result.error);
  },
};
