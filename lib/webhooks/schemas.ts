/**
 * The outbound webhooks' shapes: what an admin sends and gets back, the event
 * payload receivers parse, and the endpoint and delivery records. Pure (zod
 * and the address rules only), so the OpenAPI document and islands can
 * import it.
 */
import { z } from "zod";
import { addressProblem } from "./address.ts";

/**
 * Every event an endpoint may subscribe to. A new kind is one more entry here
 * (and its sentence in `slack_text.ts` when chat alerts should carry it).
 */
export const WEBHOOK_EVENTS = [
  "action.scheduled",
  "action.started",
  "action.completed",
  "action.failed",
  "action.cancelled",
  "action.rescheduled",
  "action.paused",
  "action.resumed",
  "wave.completed",
  "target.failed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What a chat alert (kind `slack`) may carry: rollouts that stopped or went wrong. */
export const CHAT_ALERT_EVENTS: readonly WebhookEventType[] = [
  "action.failed",
  "action.paused",
  "target.failed",
];

/** Sent by "send a test event" only; no endpoint subscribes to it. */
export const TEST_EVENT_TYPE = "webhook.test";

export const WEBHOOK_KINDS = ["standard", "slack"] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

/** Endpoints per deployment: each event fans out to every one of them. */
export const MAX_WEBHOOK_ENDPOINTS = 50;

const EventSchema = z.enum(WEBHOOK_EVENTS, {
  error: (i) =>
    `unknown event ${JSON.stringify(i.input)}; expected one of ${
      WEBHOOK_EVENTS.join(", ")
    }`,
});

/**
 * The register body. `allowHttp` is `ALLOW_HTTP_WEBHOOKS`: plain http to
 * loopback, and private addresses, for local use.
 */
export function webhookEndpointBodySchema(allowHttp: boolean) {
  return z.strictObject({
    url: z.string({ error: "expected the endpoint's URL as a string" }).trim()
      .max(2000, "must be at most 2000 characters")
      .superRefine((v, ctx) => {
        const problem = addressProblem(v, allowHttp);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    events: z.array(EventSchema, {
      error: "expected a list of event names",
    }).min(1, "pick at least one event").optional(),
    kind: z.enum(WEBHOOK_KINDS, {
      error: `expected "standard" or "slack"`,
    }).default("standard"),
    description: z.string().trim().max(200, "must be at most 200 characters")
      .optional(),
  });
}

/** The register body, with the kind's default events filled in. */
export function webhookEndpointInputSchema(allowHttp: boolean) {
  return webhookEndpointBodySchema(allowHttp).transform((v, ctx) => {
    const events = [
      ...new Set(
        v.events ??
          (v.kind === "slack" ? CHAT_ALERT_EVENTS : WEBHOOK_EVENTS),
      ),
    ];
    if (v.kind === "slack") {
      const other = events.filter((e) => !CHAT_ALERT_EVENTS.includes(e));
      if (other.length) {
        ctx.addIssue({
          code: "custom",
          path: ["events"],
          message: `a chat alert carries only ${
            CHAT_ALERT_EVENTS.join(", ")
          }, not ${other.join(", ")}`,
        });
        return z.NEVER;
      }
    }
    return {
      url: v.url,
      events,
      kind: v.kind,
      description: v.description ?? null,
    };
  });
}

/** The register body as documented (production rules: https, public addresses). */
export const WebhookEndpointBodySchema = webhookEndpointBodySchema(false);
export const WebhookEndpointInputSchema = webhookEndpointInputSchema(false);
export type WebhookEndpointInput = z.output<typeof WebhookEndpointInputSchema>;

/** An endpoint as lists show it: never its secret. */
export const WebhookEndpointViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  kind: z.enum(WEBHOOK_KINDS),
  description: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  /** Set when a receiver answered 410 Gone: nothing more is sent to it. */
  disabledAt: z.string().nullable(),
  disabledReason: z.string().nullable(),
});
export type WebhookEndpointView = z.infer<typeof WebhookEndpointViewSchema>;

/** The 201 answer: the only time the signing secret is shown. */
export const WebhookEndpointCreatedSchema = WebhookEndpointViewSchema.extend({
  secret: z.string().startsWith("whsec_"),
});

export const WebhookEndpointListSchema = z.object({
  endpoints: z.array(WebhookEndpointViewSchema),
});

export const DELIVERY_STATUSES = [
  "pending",
  "sending",
  "delivered",
  "failed",
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event on its way to one endpoint, as the delivery log shows it. */
export const WebhookDeliveryViewSchema = z.object({
  id: z.string(),
  endpointId: z.string(),
  /** The `webhook-id` header: the same on every attempt. */
  eventId: z.string(),
  type: z.string(),
  actionId: z.string().nullable(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  createdAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  /** The receiver's last HTTP status; null when it never answered. */
  lastStatus: z.number().int().nullable(),
  /** The start of the receiver's last answer, or why nothing was sent. */
  lastAnswer: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryViewSchema>;

export const WebhookDeliveryListSchema = z.object({
  endpoint: WebhookEndpointViewSchema,
  deliveries: z.array(WebhookDeliveryViewSchema),
});

/** `POST /api/admin/webhooks/:id/test` answers with the queued delivery. */
export const WebhookTestAnswerSchema = z.object({
  delivery: WebhookDeliveryViewSchema,
});

/** What a receiver gets (kind `standard`), signed per Standard Webhooks. */
export const WebhookPayloadSchema = z.object({
  type: z.string(),
  timestamp: z.string(),
  data: z.object({
    action: z.object({
      id: z.string(),
      actionType: z.enum(["scheduled_restart", "version_change"]),
      status: z.string(),
      /** The image tag a version change moves to (null for a restart). */
      imageTag: z.string().nullable(),
      scheduledAt: z.string().nullable(),
      reason: z.string().nullable(),
      /** The action's page. */
      url: z.string(),
    }).nullable(),
    counts: z.object({
      total: z.number().int(),
      applied: z.number().int(),
      skipped: z.number().int(),
      failed: z.number().int(),
    }).nullable(),
    target: z.object({
      id: z.string(),
      instanceId: z.string(),
      sourceImageTag: z.string(),
      targetImageTag: z.string(),
      error: z.string().nullable(),
    }).optional(),
    /** A move: the time before and after. */
    from: z.string().optional(),
    to: z.string().optional(),
    /** A rollout event (wave.completed, action.paused): the wave, from 1. */
    wave: z.number().int().optional(),
  }),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/** Slack's incoming-webhook body. */
export const SlackMessageSchema = z.object({ text: z.string() });
