/**
 * The records the admin API answers with (users, instances, the catalog, the
 * audit), as zod schemas for the OpenAPI document and the tests that check
 * real answers against it. Side-effect free.
 */
import { z } from "zod";
import { AUDIT_CHANGES, AUDIT_SUBJECT_TYPES } from "../types.ts";
import {
  NotificationSchema,
  ScheduledActionSchema,
  StageSchema,
  TargetSchema,
} from "./action_answers.ts";

const at = z.iso.datetime();
/** Counts, indexes, hours and epoch times: whole and never negative. */
const count = z.number().int().nonnegative();

export const UserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  timeZone: z.string().nullable(),
  role: z.enum(["admin", "user"]),
  pushTokens: z.array(z.string()),
  createdAt: at,
  updatedAt: at,
}).meta({ id: "User" });

export const DeletedUserSchema = z.object({
  deleted: z.literal(true),
  id: z.string(),
}).meta({ id: "DeletedUser" });

export const InstanceSchema = z.object({
  id: z.string(),
  name: z.string(),
  ownerId: z.string(),
  imageTag: z.string(),
  pinnedImageTag: z.string().nullable(),
  status: z.enum(["running", "destroyed"]),
  lastRestartAt: at.nullable(),
  createdAt: at,
  updatedAt: at,
}).meta({ id: "Instance" });

/** `GET /api/admin/instances/:id`: the instance, what is pending for it, its history. */
export const InstanceDetailSchema = z.object({
  instance: InstanceSchema,
  pendingAction: z.object({
    action: ScheduledActionSchema,
    stage: StageSchema,
    target: TargetSchema,
  }).nullable(),
  history: z.array(z.object({
    action: ScheduledActionSchema,
    target: TargetSchema,
    notifications: z.array(NotificationSchema),
  })).meta({ description: "Newest first." }),
}).meta({ id: "InstanceDetail" });

export const CatalogEntrySchema = z.object({
  imageTag: z.string(),
  openclawVersion: z.string(),
  available: z.boolean(),
  updatedAt: at,
}).meta({ id: "CatalogEntry" });

const AuditSubjectSchema = z.object({
  type: z.enum(AUDIT_SUBJECT_TYPES),
  id: z.string(),
});

export const AuditPageSchema = z.object({
  items: z.array(z.object({
    id: z.string(),
    at,
    actor: z.object({ id: z.string(), email: z.string().nullable() }),
    via: z.enum(["session", "api_token", "system", "owner"]),
    change: z.enum(AUDIT_CHANGES),
    subject: AuditSubjectSchema,
    related: z.array(AuditSubjectSchema),
    details: z.record(z.string(), z.unknown()).meta({
      description:
        "Changed fields as `[before, after]`, or the change's own figures.",
    }),
    reason: z.string().optional(),
  })),
  cursor: z.string().nullable(),
}).meta({ id: "AuditPage" });

export const PushTokenAddedSchema = z.object({
  token: z.string(),
  devices: count.meta({
    description: "Devices the account now has.",
  }),
}).meta({ id: "PushTokenAdded" });

export const PushTokenRemovedSchema = z.object({
  token: z.string(),
  removed: z.boolean().meta({ description: "The account held this token." }),
  devices: count,
}).meta({ id: "PushTokenRemoved" });
