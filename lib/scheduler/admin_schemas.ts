/** Bodies of the admin data endpoints (users, catalog, instances). */
import { z } from "zod";
import { IMAGE_TAG_PATTERN } from "../kv/catalog.ts";
import { isTimeZone } from "../format.ts";
import { IdSchema } from "../ids.ts";
import { textField } from "../text.ts";
import { MAX_ACTION_PAGE } from "./read.ts";
import { MAX_AUDIT_PAGE_SIZE } from "../kv/audit.ts";
import { AUDIT_CHANGES, AUDIT_SUBJECT_TYPES } from "../types.ts";

const imageTag = z.string().trim().min(1).max(128).regex(
  IMAGE_TAG_PATTERN,
  "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
);

export const PathImageTagSchema = imageTag;

export const UserPutSchema = z.strictObject({
  email: z.email("must be an email address").max(254),
  // A blank name is no name; leaving the field out keeps the one stored.
  name: textField({ max: 120 }).nullish().transform((v) => v === "" ? null : v),
  timeZone: z.string().trim().max(64).refine(
    isTimeZone,
    "must be an IANA time zone, e.g. Europe/Berlin",
  )
    .nullish(),
  admin: z.boolean().optional(),
});

export const CatalogPutSchema = z.strictObject({
  openclawVersion: textField({ min: 1, max: 64 }),
  available: z.boolean().optional(),
});

export const InstancePutSchema = z.strictObject({
  name: textField({ min: 1, max: 120 }),
  ownerId: IdSchema,
  imageTag,
  pinnedImageTag: imageTag.nullish(),
  status: z.enum(["running", "destroyed"]).optional(),
});

export const PageQuerySchema = z.object({
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ACTION_PAGE).optional(),
});

/** `GET /api/admin/audit` and `/admin/audit`: filters and paging. */
export const AuditQuerySchema = z.strictObject({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE_SIZE).optional(),
  actor: IdSchema.optional(),
  change: z.enum(AUDIT_CHANGES).optional(),
  subjectType: z.enum(AUDIT_SUBJECT_TYPES).optional(),
  subjectId: IdSchema.optional(),
}).refine(
  (q) => (q.subjectType === undefined) === (q.subjectId === undefined),
  { message: "give subjectType and subjectId together", path: ["subjectId"] },
).transform(({ subjectType, subjectId, ...rest }) => ({
  ...rest,
  subject: subjectType && subjectId
    ? { type: subjectType, id: subjectId }
    : undefined,
}));
