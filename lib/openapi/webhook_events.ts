/**
 * The outbound webhooks as the document's `webhooks`: each event type's
 * payload, its signature headers and what a receiver answers.
 */
import {
  EXAMPLE,
  jsonBody,
  SlackMessageSchema,
  WebhookPayloadSchema,
} from "./operation_parts.ts";
import { z } from "zod";
import type { ZodOpenApiOperationObject } from "zod-openapi";
import {
  CHAT_ALERT_EVENTS,
  TEST_EVENT_TYPE,
  WEBHOOK_EVENTS,
} from "../webhooks/schemas.ts";

const SIGNATURE_HEADERS = z.object({
  "webhook-id": z.string().meta({
    description:
      "The event's id: the same on every attempt, so a receiver can process each once.",
  }),
  "webhook-timestamp": z.string().meta({
    description: "Seconds since the epoch when this attempt was signed.",
  }),
  "webhook-signature": z.string().meta({
    description:
      "`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with the endpoint's secret (Standard Webhooks).",
  }),
});

const RECEIVED = {
  "200": {
    description:
      "Any 2xx: received. No answer, 408, 429 or 5xx is tried again with backoff (honouring `Retry-After`) under the same `webhook-id`, for up to a day; any other 4xx or a redirect fails the delivery at once.",
  },
  "410": {
    description:
      "Gone: the endpoint is disabled and nothing more is sent to it until it is registered again.",
  },
};

const examplePayload = (type: string) => ({
  type,
  timestamp: "2026-12-01T03:04:12.000Z",
  data: {
    action: {
      id: EXAMPLE.actionId,
      actionType: "version_change",
      status: type === "action.failed" ? "failed" : "running",
      imageTag: EXAMPLE.toTag,
      scheduledAt: EXAMPLE.scheduledAt,
      reason: "the November release",
      url: `https://scheduler.example.com/admin/actions/${EXAMPLE.actionId}`,
    },
    counts: { total: 1, applied: 0, skipped: 0, failed: 1 },
    ...(type === "target.failed"
      ? {
        target: {
          id: EXAMPLE.targetId,
          instanceId: EXAMPLE.instanceId,
          sourceImageTag: EXAMPLE.fromTag,
          targetImageTag: EXAMPLE.toTag,
          error: "the controller answered 503",
        },
      }
      : {}),
  },
});

/**
 * What receivers get, one entry per event (OpenAPI 3.1's `webhooks`): the
 * signed event for `standard` endpoints, Slack's JSON for chat alerts.
 */
export const webhooks = {
  ...Object.fromEntries(
    [...WEBHOOK_EVENTS, TEST_EVENT_TYPE].map((type) => [type, {
      post: {
        tags: ["Webhooks"],
        operationId: `receive_${type.replace(".", "_")}`,
        summary: type === TEST_EVENT_TYPE
          ? "The test event an admin sends by hand"
          : `The ${type} event`,
        description:
          "POSTed to each `standard` endpoint subscribed to it, as JSON, signed per Standard Webhooks with the endpoint's secret.",
        security: [],
        requestParams: { header: SIGNATURE_HEADERS },
        requestBody: jsonBody(
          WebhookPayloadSchema,
          type === TEST_EVENT_TYPE
            ? {
              type,
              timestamp: "2026-12-01T03:04:12.000Z",
              data: { action: null, counts: null },
            }
            : examplePayload(type),
        ),
        responses: RECEIVED,
      },
    }]),
  ),
  chatAlert: {
    post: {
      tags: ["Webhooks"],
      operationId: "receiveChatAlert",
      summary: "A chat alert (Slack's incoming-webhook JSON)",
      description: `POSTed to each \`slack\` endpoint, unsigned, for ${
        CHAT_ALERT_EVENTS.join(" and ")
      } (and the test event).`,
      security: [],
      requestBody: jsonBody(SlackMessageSchema, {
        text:
          `:red_circle: The version change to ${EXAMPLE.toTag} failed: 1 of 1 instances failed, none changed. <https://scheduler.example.com/admin/actions/${EXAMPLE.actionId}|Open the action>`,
      }),
      responses: { "200": RECEIVED["200"] },
    },
  },
} satisfies Record<string, Record<string, ZodOpenApiOperationObject>>;
