/**
 * The operations owners (and the internal route) call: their instances, the
 * banner's status, a postpone, their settings and devices. The admins' are in
 * paths.ts.
 */
import {
  errors,
  EXAMPLE,
  InstancePath,
  INTERNAL,
  jsonBody,
  ok,
  SETTINGS_EXAMPLE,
  user,
} from "./operation_parts.ts";
import { z } from "zod";
import type { ZodOpenApiOperationObject } from "zod-openapi";

import { SideEffectRequestSchema } from "../channels/side_effects.ts";

import { PushTokenBodySchema } from "@/routes/api/push-tokens.ts";
import { OwnerSettingsSchema } from "../owners/settings_schema.ts";
import { PostponeInputSchema } from "../scheduler/postpone.ts";
import {
  InstanceStatusSchema,
  OwnInstancesSchema,
} from "../views/action_answers.ts";
import {
  PushTokenAddedSchema,
  PushTokenRemovedSchema,
} from "../views/record_answers.ts";

export const ownerPaths = {
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
  "/api/instances/{id}/postpone": {
    post: user({
      operationId: "postponeInstanceChange",
      summary: "Postpone your instance's coming change",
      description:
        "Only when the admin allowed it (`ownerMayPostpone` on the action): to a time in [now + 1 h, `until`], later than the change's time now, at most `times` times. A time outside that range is a 400 naming `scheduledAt`; an urgent change, one less than an hour away, one that has started, is on hold, or was postponed as often as allowed is a 409 saying which; someone else's instance is a 404. The channels that warned you get a \"moved\" notice (a warning being sent at that very moment goes out first, then the notice).",
      requestParams: { path: InstancePath },
      requestBody: jsonBody(PostponeInputSchema, {
        scheduledAt: "2030-02-07T02:00:00Z",
      }),
      responses: {
        "200": ok(
          "Postponed: the change's new time, and how many postpones are left.",
          z.object({
            instanceId: z.string(),
            actionId: z.string(),
            scheduledAt: z.string(),
            postponesLeft: z.number().int(),
            until: z.string(),
          }),
        ),
        ...errors(400, 404, 409, 413, 415),
      },
    }),
  },
  "/api/me/settings": {
    get: user({
      operationId: "getOwnSettings",
      summary:
        "Your settings: time zone, maintenance window, warning channels, quiet hours",
      description:
        "Never saved: your stored zone, `maintenanceWindow: null` (any time), both channels on, no quiet hours.",
      responses: {
        "200": ok("Your settings.", OwnerSettingsSchema),
      },
    }),
    put: user({
      operationId: "putOwnSettings",
      summary: "Save your settings",
      description:
        "Exactly these four fields. `maintenanceWindow` (or null for any time): days `mon`…`sun`, `startHour` 0–23 and `lengthHours` 1–8 in your zone. `channels`: warnings (notices, reminders) by email and push on or off; cancellations and moves reach every channel that warned you, and the banner is always on. `quietHours` (push only, may cross midnight): a push warning due inside them waits for their end if that is still an hour or more before the change, else it goes at once. A bad value is a 400 naming its field.",
      requestBody: jsonBody(OwnerSettingsSchema, SETTINGS_EXAMPLE),
      responses: {
        "200": ok("Your settings as saved.", OwnerSettingsSchema),
        ...errors(400, 409, 413, 415),
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
