/**
 * Every `/api` route as an OpenAPI operation, from the zod schemas the route
 * validates with; the tests list any route left out.
 */
import {
  ActionPath,
  admin,
  errors,
  EXAMPLE,
  InstancePath,
  jsonBody,
  ok,
  rescheduleExample,
  scheduleExample,
  SETTINGS_EXAMPLE,
  TargetPath,
  UserPath,
  WebhookDeliveryListSchema,
  WebhookEndpointCreatedSchema,
  WebhookEndpointListSchema,
  WebhookPath,
  WebhookTestAnswerSchema,
} from "./operation_parts.ts";
import { z } from "zod";
import { ownerPaths } from "./owner_paths.ts";
import type { ZodOpenApiOperationObject } from "zod-openapi";
import { AuditQuerySchema } from "../kv/audit.ts";
import { CatalogPutSchema, ImageTagSchema } from "../kv/catalog.ts";
import { InstancePutSchema } from "../kv/instances.ts";
import { UserPutSchema } from "../kv/users.ts";
import {
  ResumeInputSchema,
  RolloutReasonSchema,
} from "../scheduler/rollout_controls.ts";
import {
  CancelBodySchema,
  PreviewRequestSchema,
  RescheduleInputSchema,
  ScheduleRequestSchema,
} from "../scheduler/schemas.ts";
import { ActionQuerySchema } from "../views/action_search.ts";
import { OutcomeQuerySchema } from "../views/action_reads.ts";

import {
  CHAT_ALERT_EVENTS,
  MAX_WEBHOOK_ENDPOINTS,
  TEST_EVENT_TYPE,
  WebhookEndpointBodySchema,
} from "../webhooks/schemas.ts";
import { ActionDetailQuerySchema } from "@/routes/api/admin/scheduled-actions/[id].ts";

import { OwnerSettingsSchema } from "../owners/settings_schema.ts";

import {
  ActionDetailSchema,
  ActionListSchema,
  ActionProgressSchema,
  CancelActionResultSchema,
  CancelTargetResultSchema,
  MovePreviewSchema,
  RecountReportSchema,
  RescheduledActionSchema,
  ResumedActionSchema,
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
  UserSchema,
} from "../views/record_answers.ts";

export const paths = {
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
        "`instanceIds` (up to 100,000) or `selector: {imageTag}`; `skipPending: true` leaves out instances another action holds instead of a 409. An action over `SCHEDULE_INLINE_TARGETS` instances (10,000 by default) is checked whole, then answered at once with 202: it is `preparing` while its instances are written in the background, and turns `scheduled` once they all are. Follow it with `GET /api/admin/scheduled-actions/{id}/progress` (its `preparing.written` of `preparing.total`); nothing is sent or applied meanwhile, and only a cancel may change it.",
      requestBody: jsonBody(ScheduleRequestSchema, scheduleExample, {
        summary: "The README's example",
      }),
      responses: {
        "201": ok("Scheduled.", ScheduleResultSchema),
        "202": ok(
          "Accepted: a large action, `preparing` while its instances are written in the background (`preparing` says how far).",
          ScheduleResultSchema,
        ),
        ...errors(400, 409, 413, 415, 422),
      },
    }),
  },
  "/api/admin/scheduled-actions/preview": {
    post: admin("Actions", {
      operationId: "previewSchedule",
      summary: "Review a schedule without writing anything",
      description:
        "The same body as scheduling, plus `sampleOwnerId`: counts, who is left out and why, the email, push and banner one owner would get, send times, warnings, and the plan as `stages` (one per wave: its time, size and a sample of its instances — illustrative beyond a hand-picked canary, as the write draws the waves with the new action's own id).",
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
      description:
        "Targets come 50 a page by default (`targetLimit` up to 500), in creation order; `outcome` keeps only the targets with that outcome, read from an index of their own (3 failed among 100,000 are one small read; an action scheduled before that index existed is indexed once, on the first such request). Pass the answer's `targets.cursor` back as `targetCursor`, with the same `outcome`, for the next page.",
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
        "Progress (cancelled instances counted apart from skipped), the count of each outcome, notices per kind and channel, who cancelled, 50 instances a page (`cursor`; `targets` is the older name), all of them or those with one `outcome`. A large action written in the background has `preparing`: `written` of `total` while it is `preparing`, then `leftOut` and `writtenAt`.",
      requestParams: {
        path: ActionPath,
        query: z.object({
          cursor: z.string().optional(),
          targets: z.string().optional().meta({ deprecated: true }),
          outcome: OutcomeQuerySchema.optional(),
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
        "Only an action still `scheduled` whose stage has not begun moves; owners already warned get a rescheduled notice. 409 while it is `preparing`.",
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
  "/api/admin/scheduled-actions/{id}/resume": {
    post: admin("Actions", {
      operationId: "resumeRollout",
      summary: "Resume a paused rollout",
      description:
        "The next wave and the ones after it get new times, keeping their spacing: from `scheduledAt`, or by default the earliest time that still gives the next wave's owners their notice lead. Owners already told a time get a rescheduled notice. 409 unless the action is `paused` (and while it is `preparing`, saying so).",
      requestParams: { path: ActionPath },
      requestBody: jsonBody(ResumeInputSchema, {
        scheduledAt: "2026-12-02T03:00:00Z",
        reason: "the canary's crash is fixed in the catalog's build",
      }, { required: false }),
      responses: {
        "200": ok(
          "Resumed: the action, and what the resume moved.",
          ResumedActionSchema,
        ),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/abort": {
    post: admin("Actions", {
      operationId: "abortRollout",
      summary: "Abort a rollout",
      description:
        "Every target not changed yet is cancelled (owners who were warned are told); the waves already applied stay applied. The action ends `cancelled` with `abortedAfterWave`; aborting it again answers it as it is. 409 once it has completed or failed, and while it is `preparing` (cancel it instead).",
      requestParams: { path: ActionPath },
      requestBody: jsonBody(RolloutReasonSchema, {
        reason: "the canary's instances crash on start",
      }, { required: false }),
      responses: {
        "200": ok("Aborted: the action as it is now.", ActionDetailSchema),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/rollback": {
    post: admin("Actions", {
      operationId: "rollbackRollout",
      summary: "Roll back a version change",
      description:
        "Schedules a new version change (`rollbackOf` names this one) moving each instance this action changed back to the tag it came from, at the earliest allowed time, with a plain notice to its owners. A paused or running rollout is aborted first. 409 for a restart, while it is `preparing`, when nothing was changed yet, or when an earlier tag is not available.",
      requestParams: { path: ActionPath },
      requestBody: jsonBody(RolloutReasonSchema, {
        reason: "the canary's instances crash on start",
      }, { required: false }),
      responses: {
        "201": ok("The rollback action, scheduled.", ScheduleResultSchema),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/recount": {
    post: admin("Actions", {
      operationId: "recountAction",
      summary: "Recompute an action's counters from its rows (a repair)",
      description:
        "Recounts the action's notices per stage, kind, channel and state, and its targets by outcome, from the rows themselves, and rewrites the counters that differ. Audited. It walks every target: a repair, not a read. 409 while the action is `preparing` (its write is still adding to the counters).",
      requestParams: { path: ActionPath },
      responses: {
        "200": ok("The counters now match the rows.", RecountReportSchema),
        ...errors(400, 404, 409),
      },
    }),
  },
  "/api/admin/scheduled-actions/{id}/targets/{targetId}/cancel": {
    post: admin("Actions", {
      operationId: "cancelTarget",
      summary: "Cancel the action for one instance",
      description:
        "409 once the instance is being applied or finished, and while the action is `preparing` (cancel the whole action instead, or wait until it is `scheduled`).",
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
  "/api/admin/users/{id}/settings": {
    get: admin("Records", {
      operationId: "getUserSettings",
      summary: "A user's settings",
      requestParams: { path: UserPath },
      responses: {
        "200": ok("The settings.", OwnerSettingsSchema),
        ...errors(400, 404),
      },
    }),
    put: admin("Records", {
      operationId: "putUserSettings",
      summary: "Save a user's settings (audited)",
      description:
        "All four fields, as the user's own `PUT /api/me/settings` takes them; the change is recorded in the audit in the same write.",
      requestParams: { path: UserPath },
      requestBody: jsonBody(OwnerSettingsSchema, SETTINGS_EXAMPLE),
      responses: {
        "200": ok("The settings as saved.", OwnerSettingsSchema),
        ...errors(400, 404, 409, 413, 415),
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
  ...ownerPaths,
} satisfies Record<string, Record<string, ZodOpenApiOperationObject>>;
