/** The body of `POST /api/admin/scheduled-actions`, as DESIGN lists it. */
import { z } from "zod";
import { CHANNELS } from "../types.ts";
import { IMAGE_TAG_PATTERN } from "../kv/catalog.ts";
import { parseOrThrow, readJson } from "../errors.ts";

export const MAX_TARGETS = 10_000;

const imageTag = z.string().trim().min(1, "required").max(128).regex(
  IMAGE_TAG_PATTERN,
  "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
);

const common = {
  instanceIds: z.array(z.string().trim().min(1, "must not be empty").max(128))
    .min(1, "choose at least one instance")
    .max(MAX_TARGETS, `at most ${MAX_TARGETS} instances in one action`)
    .optional(),
  selector: z.object({ imageTag }).optional(),
  overridePins: z.boolean().default(false),
  scheduledAt: z.iso.datetime({
    offset: true,
    message: "must be an ISO 8601 date and time, e.g. 2030-01-31T09:00:00Z",
  }),
  reason: z.string().trim().max(256).nullish().transform((v) => v || null),
  notify: z.boolean().default(true),
  noticeLeadHours: z.number().int("must be a whole number of hours").min(0)
    .max(168).default(24),
  noticeSubject: z.string().trim().max(120)
    // deno-lint-ignore no-control-regex
    .regex(/^[^\x00-\x1f\x7f]*$/, "must be a single line of text")
    .nullish().transform((v) => v || null),
  noticeBody: z.string().trim().max(2000).nullish().transform((v) => v || null),
  noticeChannels: z.array(z.enum(CHANNELS as [string, ...string[]]))
    .min(1, "choose at least one channel")
    .default([...CHANNELS])
    .transform((list) => [...new Set(list)] as (typeof CHANNELS)[number][]),
};

export const ScheduleInputSchema = z.discriminatedUnion("actionType", [
  z.object({ actionType: z.literal("scheduled_restart"), ...common }),
  z.object({ actionType: z.literal("version_change"), imageTag, ...common }),
]).superRefine((v, ctx) => {
  if ((v.instanceIds === undefined) === (v.selector === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["instanceIds"],
      message: "give either instanceIds or a selector, not both or neither",
    });
  }
});

export type ScheduleInput = z.output<typeof ScheduleInputSchema>;

/**
 * Options beside the schedule body (same JSON object): `skipPending` leaves
 * out instances another action holds instead of answering 409; the preview
 * also takes whose view to render.
 */
export const ScheduleOptionsSchema = z.object({
  skipPending: z.boolean().default(false),
  sampleOwnerId: z.string().trim().max(128).nullish(),
});

/** The optional body of the cancel endpoints: `{reason?}`. */
export const CancelBodySchema = z.object({
  reason: z.string().trim().max(256).nullish().transform((v) => v || null),
});

/** A cancel may come with no body at all (the reason is optional). */
export async function readCancelReason(req: Request): Promise<string | null> {
  if (!req.body || !req.headers.get("content-type")) {
    await req.body?.cancel();
    return null;
  }
  return parseOrThrow(CancelBodySchema, await readJson(req)).reason;
}
