/**
 * The OpenAPI 3.1 document of every `/api` route, built from the zod schemas
 * the routes validate with and the answer schemas beside the domain code, so
 * the document cannot say something the code does not check. Adding a route
 * is one entry in `paths` below; the tests list any route left out.
 */
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject } from "zod-openapi";
import { IdSchema, UserIdSchema } from "../ids.ts";
import { SESSION_COOKIE } from "../auth/sessions.ts";
import { MAX_LISTED_ISSUES } from "../errors.ts";
import { AuditQuerySchema } from "../kv/audit.ts";
import { CatalogPutSchema, ImageTagSchema } from "../kv/catalog.ts";
import { InstancePutSchema } from "../kv/instances.ts";
import { UserPutSchema } from "../kv/users.ts";
import {
  CancelBodySchema,
  PreviewRequestSchema,
  RescheduleInputSchema,
  ScheduleRequestSchema,
} from "../scheduler/schemas.ts";
import { ActionQuerySchema } from "../views/action_search.ts";
import { SideEffectRequestSchema } from "../channels/side_effects.ts";
import {
  CHAT_ALERT_EVENTS,
  MAX_WEBHOOK_ENDPOINTS,
  SlackMessageSchema as SlackMessageZod,
  TEST_EVENT_TYPE,
  WEBHOOK_EVENTS,
  WebhookDeliveryListSchema as WebhookDeliveryListZod,
  WebhookEndpointBodySchema,
  WebhookEndpointCreatedSchema as WebhookEndpointCreatedZod,
  WebhookEndpointListSchema as WebhookEndpointListZod,
  WebhookPayloadSchema as WebhookPayloadZod,
  WebhookTestAnswerSchema as WebhookTestAnswerZod,
} from "../webhooks/schemas.ts";
import { ActionDetailQuerySchema } from "@/routes/api/admin/scheduled-actions/[id].ts";
import { PushTokenBodySchema } from "@/routes/api/push-tokens.ts";
import {
  ActionDetailSchema,
  ActionListSchema,
  ActionProgressSchema,
  CancelActionResultSchema,
  CancelTargetResultSchema,
  InstanceStatusSchema,
  IssueSchema,
  MovePreviewSchema,
  OwnInstancesSchema,
  RescheduledActionSchema,
  SchedulePreviewSchema,
  ScheduleResultSchema,
  SweepRunSchema,
} from "../views/action_answers.ts";
import {
  AuditPageSchema,
  CatalogEntrySchema,
  DeletedUserSchema,
  InstanceDetailSchema,
  InstanceSchema,
  PushTokenAddedSchema,
  PushTokenRemovedSchema,
  UserSchema,
} from "../views/record_answers.ts";

// The webhook shapes live beside the delivery code; named here so the
// document shows each once as a component.
// zod writes `startsWith` as a `format` no validator knows; the same rule as
// a pattern alone.
const WebhookEndpointCreatedSchema = WebhookEndpointCreatedZod.extend({
  secret: z.string().regex(/^whsec_/).meta({
    description:
      "The key that signs every event (`whsec_…`): in this answer only.",
  }),
}).meta({ id: "WebhookEndpointCreated" });
const WebhookEndpointListSchema = WebhookEndpointListZod.meta({
  id: "WebhookEndpointList",
});
const WebhookDeliveryListSchema = WebhookDeliveryListZod.meta({
  id: "WebhookDeliveryList",
});
const WebhookTestAnswerSchema = WebhookTestAnswerZod.meta({
  id: "WebhookTestAnswer",
});
const WebhookPayloadSchema = WebhookPayloadZod.meta({ id: "WebhookPayload" });
const SlackMessageSchema = SlackMessageZod.meta({ id: "SlackMessage" });

/** What every `/api` error answers: lib/errors.ts's `{error, issues?}`. */
export const ApiErrorSchema = z.object({
  error: z.string().meta({ description: "What is wrong, in a sentence." }),
  issues: z.array(IssueSchema).optional().meta({
    description:
      `Each field at fault (\`path\` as the field's dotted name), at most ${MAX_LISTED_ISSUES} and one that counts the rest.`,
  }),
}).meta({ id: "ApiError" });

const ERROR_WORDS: Record<number, string> = {
  400:
    "The body, a parameter or the query is not valid; `issues` names each field.",
  401: "Not signed in, or a wrong or missing credential.",
  403: "Signed in, but not allowed (an admin route asked by a user).",
  404: "No such record (someone else's is answered the same way).",
  405: "The path does not take this method.",
  409:
    "It conflicts with the record's state (already begun, held by another action, a lost race).",
  413: "The body is larger than the route takes.",
  415: "The body is not `application/json`.",
  422:
    "Well-formed, but it names something that does not exist or cannot be used.",
  502:
    "The email provider refused or failed; `retry-after` says when to try again when it knows.",
};

function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [String(status), {
    description: ERROR_WORDS[status],
    content: { "application/json": { schema: ApiErrorSchema } },
  }]));
}

function ok(description: string, schema: z.ZodType) {
  return { description, content: { "application/json": { schema } } };
}

function jsonBody(
  schema: z.ZodType,
  example: unknown,
  opts: { required?: boolean; summary?: string } = {},
) {
  return {
    required: opts.required ?? true,
    content: {
      "application/json": {
        schema,
        examples: {
          readme: {
            summary: opts.summary ?? "Example",
            value: example,
          },
        },
      },
    },
  };
}

// Example records: the README's action (a version change from 2026.11.1 to
// 2026.11.2) on one owner's bot. The replay test creates them with these ids.
export const EXAMPLE = {
  userId: "0193a1b2-0000-7000-8000-00000000a11c",
  instanceId: "0193a1b2-0000-7000-8000-0000000b0701",
  actionId: "0193a1b2-0000-7000-8000-0000000ac710",
  targetId: "0193a1b2-0000-7000-8000-0000000da41e",
  notificationId: "0193a1b2-0000-7000-8000-0000000e4a11",
  fromTag: "2026.11.1",
  toTag: "2026.11.2",
  scheduledAt: "2026-12-01T03:00:00Z",
  pushToken: "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]",
  webhookId: "0193a1b2-0000-7000-8000-00000000b00c",
  webhookUrl: "https://hooks.example.com/kiloclaw",
} as const;

const ActionPath = z.object({
  id: IdSchema.meta({
    example: EXAMPLE.actionId,
    description: "The action's id.",
  }),
});
const TargetPath = ActionPath.extend({
  targetId: IdSchema.meta({
    example: EXAMPLE.targetId,
    description: "The target's id (one instance in the action).",
  }),
});
const WebhookPath = z.object({
  id: IdSchema.meta({
    example: EXAMPLE.webhookId,
    description: "The endpoint's id.",
  }),
});
const InstancePath = z.object({
  id: IdSchema.meta({ example: EXAMPLE.instanceId }),
});
const UserPath = z.object({
  id: UserIdSchema.meta({ example: EXAMPLE.userId }),
});

type Security = Record<string, string[]>[];
const ADMIN: Security = [{ adminToken: [] }, { session: [] }];
const USER: Security = [{ session: [] }];
const INTERNAL: Security = [{ internalSecret: [] }];

function admin(
  tag: string,
  op: Omit<ZodOpenApiOperationObject, "security" | "tags">,
): ZodOpenApiOperationObject {
  return {
    tags: [tag],
    security: ADMIN,
    ...op,
    responses: { ...op.responses, ...errors(401, 403) },
  };
}

function user(
  op: Omit<ZodOpenApiOperationObject, "security" | "tags">,
): ZodOpenApiOperationObject {
  return {
    tags: ["Owners"],
    security: USER,
    ...op,
    responses: { ...op.responses, ...errors(401) },
  };
}

const scheduleExample = {
  actionType: "version_change",
  selector: { imageTag: EXAMPLE.fromTag },
  imageTag: EXAMPLE.toTag,
  scheduledAt: EXAMPLE.scheduledAt,
  noticeLeadHours: 24,
  noticeChannels: ["email", "webapp"],
};

const rescheduleExample = {
  scheduledAt: "2026-12-03T03:00:00Z",
  noticeLeadHours: 24,
  reason: "the 1st is a release day",
};

const paths = {
  "/api/admin/scheduled-actions": {
    get: admin("Actions", {
      operationId: "listScheduledActions",
      summary: "List actions, newest first",
      description:
        "Filters: `status` (repeatable), `type`, `q` (words of the reason, OpenClaw version, tag, notice subject or id), `from`/`to` (UTC days it is scheduled for); `limit` and `cursor` page.",
      requestParams: { query: ActionQuerySchema },
      responses: {
        "200": ok("A page of actions.", ActionListSchema),
        ...errors(400),
      },
    }),
    post: admin("Actions", {
      operationId: "scheduleAction",
      summary: "Schedule a restart or a version change",
      description:
        "`instanceIds` (up to 10,000) or `selector: {imageTag}`; `skipPending: true` leaves out instances another action holds instead of a 409.",
      requestBody: jsonBody(ScheduleRequestSchema, scheduleExample, {
        summary: "The README's example",
      }),
      responses: {
        "201": ok("Scheduled.", ScheduleResultSchema),
        ...errors(400, 409, 413, 415, 422),
      },
    }),
  },
  "/api/admin/scheduled-actions/preview": {
    post: admin("Actions", {
      operationId: "previewSchedule",
      summary: "Review a schedule without writing anything",
      description:
        "The same body as scheduling, plus `sampleOwnerId`: counts, who is left out and why, the email, push and banner one owner would get, send times, warnings.",
      requestBody: jsonBody(PreviewRequestSchema, scheduleExample, {
        summary: "The README's example, as a dry run",
      }),
      responses: {
        "200": ok("The review.", SchedulePreviewSchema),
        ...errors(400, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}": {
    get: admin("Actions", {
      operationId: "getScheduledAction",
      summary: "One action with its stages, counters and a page of targets",
      requestParams: { path: ActionPath, query: ActionDetailQuerySchema },
      responses: {
        "200": ok("The action.", ActionDetailSchema),
        ...errors(400, 404),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/progress": {
    get: admin("Actions", {
      operationId: "getActionProgress",
      summary: "What the action page shows",
      description:
        "Progress (cancelled instances counted apart from skipped), notices per kind and channel, who cancelled, 50 instances a page (`cursor`; `targets` is the older name).",
      requestParams: {
        path: ActionPath,
        query: z.object({
          cursor: z.string().optional(),
          targets: z.string().optional().meta({ deprecated: true }),
        }),
      },
      responses: {
        "200": ok("The progress.", ActionProgressSchema),
        ...errors(400, 404),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/reschedule": {
    post: admin("Actions", {
      operationId: "rescheduleAction",
      summary: "Move an action to another time",
      description:
        "Only an action still `scheduled` whose stage has not begun moves; owners already warned get a rescheduled notice.",
      requestParams: { path: ActionPath },
      requestBody: jsonBody(RescheduleInputSchema, rescheduleExample),
      responses: {
        "200": ok(
          "Moved: the action, and what the move did.",
          RescheduledActionSchema,
        ),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/reschedule/preview": {
    post: admin("Actions", {
      operationId: "previewReschedule",
      summary: "Review a move without writing anything",
      description:
        "The same body as moving: when owners not yet warned get their notice, the reminders still ahead, and the message one owner already warned would get. Refuses what the move would refuse, every problem at once.",
      requestParams: { path: ActionPath },
      requestBody: jsonBody(RescheduleInputSchema, rescheduleExample, {
        summary: "The move's example, as a dry run",
      }),
      responses: {
        "200": ok("The move as it would happen.", MovePreviewSchema),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/cancel": {
    post: admin("Actions", {
      operationId: "cancelAction",
      summary: "Cancel an action (idempotent)",
      requestParams: { path: ActionPath },
      requestBody: jsonBody(CancelBodySchema, {
        reason: "postponed to January",
      }, {
        required: false,
      }),
      responses: {
        "200": ok("Cancelled (or already).", CancelActionResultSchema),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/targets/{targetId}/cancel": {
    post: admin("Actions", {
      operationId: "cancelTarget",
      summary: "Cancel the action for one instance",
      requestParams: { path: TargetPath },
      requestBody: jsonBody(CancelBodySchema, {
        reason: "the owner asked to wait",
      }, {
        required: false,
      }),
      responses: {
        "200": ok("Cancelled for that instance.", CancelTargetResultSchema),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/notices/sweep": {
    post: admin("Notices", {
      operationId: "runSweep",
      summary: "Run the notice sweep now",
      responses: { "200": ok("The sweep's counts.", SweepRunSchema) },
    }),
  },
  "/api/admin/notices/last-run": {
    get: admin("Notices", {
      operationId: "getLastSweepRun",
      summary: "The last sweep's counts",
      responses: {
        "200": ok(
          "Its counts; null before the first run.",
          SweepRunSchema.nullable(),
        ),
      },
    }),
  },
  "/api/admin/audit": {
    get: admin("Audit", {
      operationId: "listAudit",
      summary: "Admin changes, newest first",
      requestParams: { query: AuditQuerySchema.in },
      responses: {
        "200": ok("A page of changes.", AuditPageSchema),
        ...errors(400),
      },
    }),
  },
  "/api/admin/catalog/{imageTag}": {
    put: admin("Records", {
      operationId: "putCatalogEntry",
      summary: "Add or update an image tag",
      requestParams: {
        path: z.object({
          imageTag: ImageTagSchema.meta({ example: EXAMPLE.toTag }),
        }),
      },
      requestBody: jsonBody(CatalogPutSchema, {
        openclawVersion: "1.9.0",
        available: true,
      }),
      responses: {
        "200": ok("The entry.", CatalogEntrySchema),
        ...errors(400, 413, 415),
      },
    }),
  },
  "/api/admin/users/{id}": {
    put: admin("Records", {
      operationId: "putUser",
      summary: "Add or update a user",
      requestParams: { path: UserPath },
      requestBody: jsonBody(UserPutSchema, {
        email: "maya@example.com",
        name: "Maya",
        timeZone: "Europe/Berlin",
        admin: false,
      }),
      responses: {
        "200": ok("The user.", UserSchema),
        ...errors(400, 409, 413, 415),
      },
    }),
    delete: admin("Records", {
      operationId: "deleteUser",
      summary: "Delete a user and end their sessions",
      requestParams: { path: UserPath },
      responses: {
        "200": ok("Deleted.", DeletedUserSchema),
        ...errors(400, 404),
      },
    }),
  },
  "/api/admin/instances/{id}": {
    get: admin("Records", {
      operationId: "getInstance",
      summary: "An instance, its pending action and its history",
      requestParams: { path: InstancePath },
      responses: {
        "200": ok("The instance.", InstanceDetailSchema),
        ...errors(400, 404),
      },
    }),
    put: admin("Records", {
      operationId: "putInstance",
      summary: "Add or update an instance",
      requestParams: { path: InstancePath },
      requestBody: jsonBody(InstancePutSchema, {
        name: "Maya's bot",
        ownerId: EXAMPLE.userId,
        imageTag: EXAMPLE.fromTag,
      }),
      responses: {
        "200": ok("The instance.", InstanceSchema),
        ...errors(400, 409, 413, 415, 422),
      },
    }),
  },
  "/api/admin/webhooks": {
    get: admin("Webhooks", {
      operationId: "listWebhooks",
      summary: "The endpoints events are sent to",
      description: "Never their signing secrets.",
      responses: { "200": ok("Every endpoint.", WebhookEndpointListSchema) },
    }),
    post: admin("Webhooks", {
      operationId: "createWebhook",
      summary: "Register an endpoint",
      description:
        `An https URL to a public address (\`ALLOW_HTTP_WEBHOOKS=true\` also takes http to a loopback address, for local use). Without \`events\`, a \`standard\` endpoint gets every event and a \`slack\` chat alert ${
          CHAT_ALERT_EVENTS.join(" and ")
        }, the only events it may carry. At most ${MAX_WEBHOOK_ENDPOINTS} endpoints.`,
      requestBody: jsonBody(WebhookEndpointBodySchema, {
        url: EXAMPLE.webhookUrl,
        events: [
          "action.scheduled",
          "action.rescheduled",
          "action.cancelled",
          "action.failed",
        ],
        description: "Release channel bot",
      }),
      responses: {
        "201": ok(
          "Registered: the signing secret, shown this once.",
          WebhookEndpointCreatedSchema,
        ),
        ...errors(400, 409, 413, 415),
      },
    }),
  },
  "/api/admin/webhooks/{id}": {
    get: admin("Webhooks", {
      operationId: "getWebhook",
      summary: "An endpoint and its delivery log, newest first",
      requestParams: { path: WebhookPath },
      responses: {
        "200": ok(
          "The endpoint and its deliveries.",
          WebhookDeliveryListSchema,
        ),
        ...errors(400, 404),
      },
    }),
    delete: admin("Webhooks", {
      operationId: "deleteWebhook",
      summary: "Remove an endpoint",
      description: "Nothing more is sent to it, retries included.",
      requestParams: { path: WebhookPath },
      responses: {
        "204": { description: "Removed." },
        ...errors(400, 404, 409),
      },
    }),
  },
  "/api/admin/webhooks/{id}/test": {
    post: admin("Webhooks", {
      operationId: "sendWebhookTestEvent",
      summary: `Send a ${TEST_EVENT_TYPE} event now`,
      description:
        "Sent at once, signed as every event is; the answer is the delivery as it stands after that first attempt (the receiver's status and the start of its answer).",
      requestParams: { path: WebhookPath },
      responses: {
        "201": ok("Sent (or tried).", WebhookTestAnswerSchema),
        ...errors(400, 404),
      },
    }),
  },
  "/api/instances": {
    get: user({
      operationId: "listOwnInstances",
      summary: "The signed-in owner's instances with their banners",
      requestParams: {
        query: z.object({
          page: z.string().regex(/^\d{1,6}$/).optional().meta({
            description: "A whole number from 1; 50 instances a page.",
            example: "1",
          }),
        }),
      },
      responses: {
        "200": ok("A page of instances.", OwnInstancesSchema),
        ...errors(400),
      },
    }),
  },
  "/api/instances/{id}/status": {
    get: user({
      operationId: "getInstanceStatus",
      summary: "An own instance's status and banner",
      requestParams: { path: InstancePath },
      responses: {
        "200": ok("Its status and banner.", InstanceStatusSchema),
        ...errors(400, 404),
      },
    }),
  },
  "/api/push-tokens": {
    post: user({
      operationId: "addPushToken",
      summary: "Register a device's Expo push token",
      requestBody: jsonBody(PushTokenBodySchema, { token: EXAMPLE.pushToken }),
      responses: {
        "200": ok("Registered.", PushTokenAddedSchema),
        ...errors(400, 409, 413, 415),
      },
    }),
    delete: user({
      operationId: "removePushToken",
      summary: "Remove a device's push token (sign-out on the phone)",
      description:
        "The token in the body, or as `?token=` for clients that send no DELETE body.",
      requestParams: {
        query: z.object({
          token: z.string().optional().meta({ example: EXAMPLE.pushToken }),
        }),
      },
      requestBody: jsonBody(PushTokenBodySchema, { token: EXAMPLE.pushToken }, {
        required: false,
      }),
      responses: {
        "200": ok("Removed (or was not there).", PushTokenRemovedSchema),
        ...errors(400, 413, 415),
      },
    }),
  },
  "/api/internal/scheduled-action-side-effects": {
    post: {
      tags: ["Internal"],
      operationId: "sendNotificationEmail",
      summary:
        "Send one claimed notification's email for another deployment's sweep",
      description:
        "Sends only a row the caller's claim holds; a repeated call for the same claim gets the first answer without a second send.",
      security: INTERNAL,
      requestBody: jsonBody(SideEffectRequestSchema, {
        notificationId: EXAMPLE.notificationId,
        claimId: "0193a1b2-0000-7000-8000-0000000c1a13",
        channel: "email",
      }),
      responses: {
        "200": ok("Sent.", z.object({ sent: z.literal(true) })),
        ...errors(400, 401, 409, 413, 415, 422, 502),
      },
    },
  },
} satisfies Record<string, Record<string, ZodOpenApiOperationObject>>;

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
const webhooks = {
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

const OpenApiSelfSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
}).meta({ id: "OpenApiDocument" });

const documentPaths = {
  ...paths,
  "/api/openapi.json": {
    get: {
      tags: ["Reference"],
      operationId: "getOpenApiDocument",
      summary: "This document",
      security: [],
      responses: { "200": ok("The OpenAPI 3.1 document.", OpenApiSelfSchema) },
    },
  },
};

export function buildOpenApiDocument(publicUrl: string) {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "KiloClaw Scheduler API",
      version: "1.0.0",
      description:
        "Schedule restarts and version changes for hosted KiloClaw instances, follow them, and read what owners see. Every error is `{error, issues?}`.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: publicUrl }],
    tags: [
      {
        name: "Actions",
        description: "Scheduling, following, moving and cancelling actions.",
      },
      { name: "Notices", description: "The notice sweep." },
      { name: "Audit", description: "Every admin change." },
      {
        name: "Records",
        description: "Users, instances and the image catalog.",
      },
      {
        name: "Owners",
        description: "What a signed-in owner reads and registers.",
      },
      {
        name: "Internal",
        description: "Between deployments of the scheduler.",
      },
      {
        name: "Webhooks",
        description:
          "Endpoints that hear about actions, and what is sent to them.",
      },
      { name: "Reference", description: "This document." },
    ],
    security: ADMIN,
    paths: documentPaths,
    webhooks,
    components: {
      securitySchemes: {
        adminToken: {
          type: "http",
          scheme: "bearer",
          description:
            "`Authorization: Bearer $ADMIN_API_TOKEN` (the admin API).",
        },
        session: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description: "The session cookie a sign-in link sets.",
        },
        internalSecret: {
          type: "apiKey",
          in: "header",
          name: "X-Internal-Secret",
          description: "`INTERNAL_API_SECRET`, shared between deployments.",
        },
      },
    },
  });
}

let built: { publicUrl: string; document: unknown } | null = null;

/** The document for this origin, built once (it depends on nothing else). */
export function openApiDocument(publicUrl: string): unknown {
  if (built?.publicUrl !== publicUrl) {
    built = { publicUrl, document: buildOpenApiDocument(publicUrl) };
  }
  return built.document;
}
