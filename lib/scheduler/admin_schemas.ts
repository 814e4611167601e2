/** Bodies of the admin data endpoints (users, catalog, instances). */
import { z } from "zod";
import { IMAGE_TAG_PATTERN } from "../kv/catalog.ts";
import { isTimeZone } from "../format.ts";

const id = z.string().trim().min(1).max(128).regex(
  /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
  "letters, digits, '.', '_', ':' and '-' only",
);
const imageTag = z.string().trim().min(1).max(128).regex(
  IMAGE_TAG_PATTERN,
  "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
);

export const PathIdSchema = id;
export const PathImageTagSchema = imageTag;

export const UserPutSchema = z.object({
  email: z.email("must be an email address").max(254),
  name: z.string().trim().max(120).nullish(),
  timeZone: z.string().trim().refine(
    isTimeZone,
    "must be an IANA time zone, e.g. Europe/Berlin",
  )
    .nullish(),
  admin: z.boolean().optional(),
});

export const CatalogPutSchema = z.object({
  openclawVersion: z.string().trim().min(1).max(64),
  available: z.boolean().optional(),
});

export const InstancePutSchema = z.object({
  name: z.string().trim().min(1).max(120),
  ownerId: id,
  imageTag,
  pinnedImageTag: imageTag.nullish(),
  status: z.enum(["running", "destroyed"]).optional(),
});

export const PageQuerySchema = z.object({
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
