/**
 * Sends one notification's email for another deployment's sweep. A thin
 * adapter over the sender the sweep uses in-process: same rendering, same
 * idempotency key per row, so a retried call never sends twice.
 */
import type { Handlers } from "$fresh/server.ts";
import {
  AppError,
  BadRequestError,
  parseOrThrow,
  readJson,
  UnauthorizedError,
  UnprocessableError,
} from "../../../lib/errors.ts";
import { appContext } from "../../../lib/context.ts";
import { secretsEqual } from "../../../lib/auth/compare.ts";
import {
  sendNotificationEmail,
  SideEffectRequestSchema,
} from "../../../lib/channels/side_effects.ts";

export const handler: Handlers = {
  async POST(req) {
    const { config, kv, email } = appContext();
    const given = req.headers.get("x-internal-secret");
    if (
      !config.internalApiSecret || !given ||
      !(await secretsEqual(given, config.internalApiSecret))
    ) {
      throw new UnauthorizedError("missing or wrong X-Internal-Secret");
    }
    const body = parseOrThrow(SideEffectRequestSchema, await readJson(req));
    if (body.channel !== "email") {
      throw new BadRequestError(
        `channel "${body.channel}" is not sent through this route; only "email" is`,
      );
    }
    const result = await sendNotificationEmail(
      { kv, email, publicUrl: config.publicUrl },
      body.notificationId,
      req.signal,
    );
    if (result.status === "sent") return Response.json({ sent: true });
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
