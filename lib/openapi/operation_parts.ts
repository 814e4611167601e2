/**
 * The pieces every operation of the OpenAPI document is built from: the
 * shared error answer, JSON bodies and answers, path parameters, who may
 * call (admin, user, internal) and the examples the routes' tests replay.
 */
import { z } from "zod";
import type { ZodOpenApiOperationObject } from "zod-openapi";
import { IdSchema, UserIdSchema } from "../ids.ts";
import { MAX_LISTED_ISSUES } from "../errors.ts";
import {
  SlackMessageSchema as SlackMessageZod,
  WebhookDeliveryListSchema as WebhookDeliveryListZod,
  WebhookEndpointCreatedSchema as WebhookEndpointCreatedZod,
  WebhookEndpointListSchema as WebhookEndpointListZod,
  WebhookPayloadSchema as WebhookPayloadZod,
  WebhookTestAnswerSchema as WebhookTestAnswerZod,
} from "../webhooks/schemas.ts";
import { IssueSchema } from "../views/action_answers.ts";

// The webhook shapes live beside the delivery code; named here so the
// document shows each once as a component.
// zod writes `startsWith` as a `format` no validator knows; the same rule as
// a pattern alone.
export const WebhookEndpointCreatedSchema = WebhookEndpointCreatedZod.extend({
  secret: z.string().regex(/^whsec_/).meta({
    description:
      "The key that signs every event (`whsec_…`): in this answer only.",
  }),
}).meta({ id: "WebhookEndpointCreated" });
export const WebhookEndpointListSchema = WebhookEndpointListZod.meta({
  id: "WebhookEndpointList",
});
export const WebhookDeliveryListSchema = WebhookDeliveryListZod.meta({
  id: "WebhookDeliveryList",
});
export const WebhookTestAnswerSchema = WebhookTestAnswerZod.meta({
  id: "WebhookTestAnswer",
});
export const WebhookPayloadSchema = WebhookPayloadZod.meta({
  id: "WebhookPayload",
});
export const SlackMessageSchema = SlackMessageZod.meta({ id: "SlackMessage" });

/** What every `/api` error answers: lib/errors.ts's `{error, issues?}`. */
export const ApiErrorSchema = z.object({
  error: z.string().meta({ description: "What is wrong, in a sentence." }),
  issues: z.array(IssueSchema).optional().meta({
    description:
      `Each field at fault (\`path\` as the field's dotted name), at most ${MAX_LISTED_ISSUES} and one that counts the rest.`,
  }),
}).meta({ id: "ApiError" });

export const ERROR_WORDS: Record<number, string> = {
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

export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [String(status), {
    description: ERROR_WORDS[status],
    content: { "application/json": { schema: ApiErrorSchema } },
  }]));
}

export function ok(description: string, schema: z.ZodType) {
  return { description, content: { "application/json": { schema } } };
}

export function jsonBody(
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

export const ActionPath = z.object({
  id: IdSchema.meta({
    example: EXAMPLE.actionId,
    description: "The action's id.",
  }),
});
export const TargetPath = ActionPath.extend({
  targetId: IdSchema.meta({
    example: EXAMPLE.targetId,
    description: "The target's id (one instance in the action).",
  }),
});
export const WebhookPath = z.object({
  id: IdSchema.meta({
    example: EXAMPLE.webhookId,
    description: "The endpoint's id.",
  }),
});
export const InstancePath = z.object({
  id: IdSchema.meta({ example: EXAMPLE.instanceId }),
});
export const UserPath = z.object({
  id: UserIdSchema.meta({ example: EXAMPLE.userId }),
});

export type Security = Record<string, string[]>[];
export const ADMIN: Security = [{ adminToken: [] }, { session: [] }];
export const USER: Security = [{ session: [] }];
export const INTERNAL: Security = [{ internalSecret: [] }];

export function admin(
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

export function user(
  op: Omit<ZodOpenApiOperationObject, "security" | "tags">,
): ZodOpenApiOperationObject {
  return {
    tags: ["Owners"],
    security: USER,
    ...op,
    responses: { ...op.responses, ...errors(401) },
  };
}

export const scheduleExample = {
  actionType: "version_change",
  selector: { imageTag: EXAMPLE.fromTag },
  imageTag: EXAMPLE.toTag,
  scheduledAt: EXAMPLE.scheduledAt,
  noticeLeadHours: 24,
  noticeChannels: ["email", "webapp"],
};

export const rescheduleExample = {
  scheduledAt: "2026-12-03T03:00:00Z",
  noticeLeadHours: 24,
  reason: "the 1st is a release day",
};

/** An owner's settings, as `/api/me/settings` and the admin's edit of them take it. */
export const SETTINGS_EXAMPLE = {
  timeZone: "Asia/Kolkata",
  maintenanceWindow: { days: ["tue"], startHour: 2, lengthHours: 3 },
  channels: { email: true, mobile_push: true },
  quietHours: { start: "22:00", end: "07:00" },
};
