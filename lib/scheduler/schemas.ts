/** The body of `POST /api/admin/scheduled-actions`, as DESIGN lists it. */
import { z } from "zod";
import { CHANNELS } from "../types.ts";
import { ImageTagSchema } from "../kv/catalog.ts";
import { parseOrThrow } from "../errors.ts";
import { readOptionalJson } from "../web/request_body.ts";
import { IdSchema } from "../ids.ts";
import { textField } from "../text.ts";
import { GateSchema, WavesSchema } from "./waves.ts";
import { MAX_TARGETS_PER_ACTION } from "../config.ts";

/** The most instances one action takes (the reason is with the constant). */
export const MAX_TARGETS = MAX_TARGETS_PER_ACTION;
/** How many times an owner may postpone one change, at most. */
export const MAX_POSTPONES = 10;

const imageTag = ImageTagSchema;

/** "2026-02-30" passes the ISO pattern and Date.parse quietly moves it to March: refuse it. */
function isCalendarDate(iso: string): boolean {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 &&
    day.getUTCDate() === d;
}

const scheduledAt = z.iso.datetime({
  offset: true,
  // A missing or non-string value keeps zod's own words ("required", "must be a string").
  error: (issue) =>
    issue.code === "invalid_type"
      ? undefined
      : "must be an ISO 8601 date and time, e.g. 2030-01-31T09:00:00Z",
}).refine(isCalendarDate, "is not a date on the calendar");

/**
 * Each target at its owner's first maintenance window start in
 * [notBefore, deadline]; an owner with no window, or none in that range,
 * at notBefore.
 */
export const OwnerWindowTimingSchema = z.strictObject({
  mode: z.literal("owner_window", {
    error: 'must be "owner_window" (each owner\'s maintenance window)',
  }),
  notBefore: scheduledAt,
  deadline: scheduledAt,
});

const noticeLeadHours = z.number().int("must be a whole number of hours")
  .min(0).max(168);

export const MAX_REMINDERS = 2;

/** Whole hours before the time, up to two, distinct; kept largest first. */
const reminderLeadHours = z.array(
  z.number().int("must be a whole number of hours").min(1).max(167),
).max(MAX_REMINDERS, `at most ${MAX_REMINDERS} reminders`)
  .refine((l) => new Set(l).size === l.length, "give each reminder once")
  .transform((l) => [...l].sort((a, b) => b - a));

/** The problem with reminders for this lead time, or null. */
export function reminderProblem(
  reminders: number[],
  noticeLeadHours: number,
): string | null {
  return reminders.some((h) => h >= noticeLeadHours)
    ? `each reminder must come after the notice: fewer hours than the notice lead (${noticeLeadHours} h)`
    : null;
}

/**
 * What is wrong with a move's lead for this action: 0 given while owners are
 * told (a lead of 0 stored before it was refused is kept, not re-judged), or
 * a lead that puts the notice after a reminder.
 */
export function leadIssues(
  action: { notify: boolean; reminderLeadHours?: number[] },
  lead: number,
  given: boolean,
): { path: string; message: string }[] {
  if (given && action.notify && lead === 0) {
    return [{ path: "noticeLeadHours", message: ZERO_LEAD }];
  }
  const reminders = reminderProblem(action.reminderLeadHours ?? [], lead);
  return reminders ? [{ path: "noticeLeadHours", message: reminders }] : [];
}

/**
 * Why a lead of 0 is refused while owners are to be told: the notice would
 * fall due as the action starts, when it is too late to send.
 */
export const ZERO_LEAD =
  "must be at least 1 hour: a notice 0 hours ahead is due as the action starts, too late to send. To tell owners at once, schedule sooner than the lead; to tell nobody, turn notices off";

const common = {
  instanceIds: z.array(IdSchema)
    .min(1, "choose at least one instance")
    .max(MAX_TARGETS, `at most ${MAX_TARGETS} instances in one action`)
    .optional(),
  selector: z.strictObject({ imageTag }).optional(),
  overridePins: z.boolean().default(false),
  // Left out when `timing` gives the times; given beside it, it must be notBefore.
  scheduledAt: scheduledAt.optional(),
  reason: textField({ max: 256 }).nullish().transform((v) => v || null),
  notify: z.boolean().default(true),
  noticeLeadHours: noticeLeadHours.default(24),
  reminderLeadHours: reminderLeadHours.default([]),
  doneChannels: z.array(z.enum(["email", "mobile_push"], {
    error: "must be email or mobile_push (the banner has no done notice)",
  })).default([]).transform((list) => [...new Set(list)]),
  noticeSubject: textField({ max: 120 }).nullish().transform((v) => v || null),
  noticeBody: textField({ max: 2000, multiline: true }).nullish().transform((
    v,
  ) => v || null),
  noticeChannels: z.array(z.enum(CHANNELS as [string, ...string[]]))
    .min(1, "choose at least one channel")
    .default([...CHANNELS])
    .transform((list) => [...new Set(list)] as (typeof CHANNELS)[number][]),
  waves: WavesSchema.optional(),
  timing: OwnerWindowTimingSchema.optional(),
  gate: GateSchema.nullish().transform((v) => v ?? null),
  ownerMayPostpone: z.strictObject({
    until: scheduledAt,
    times: z.number().int("must be a whole number").min(1).max(
      MAX_POSTPONES,
      `at most ${MAX_POSTPONES}`,
    ),
  }).nullish().transform((v) => v ?? null),
};

function eitherIdsOrSelector(
  v: { instanceIds?: unknown; selector?: unknown },
  ctx: z.RefinementCtx,
) {
  if ((v.instanceIds === undefined) === (v.selector === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["instanceIds"],
      message: "give either instanceIds or a selector, not both or neither",
    });
  }
}

/** Either instanceIds or a selector, a lead that lets a notice go out, and reminders that come after it. */
function scheduleRefine(
  v: {
    instanceIds?: unknown;
    selector?: unknown;
    reminderLeadHours: number[];
    noticeLeadHours: number;
    notify: boolean;
    waves?: unknown[];
    gate: unknown;
    scheduledAt?: string;
    timing?: z.output<typeof OwnerWindowTimingSchema>;
    ownerMayPostpone: { until: string } | null;
  },
  ctx: z.RefinementCtx,
) {
  if (v.notify && v.noticeLeadHours === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["noticeLeadHours"],
      message: ZERO_LEAD,
    });
  }
  // Against a lead of 0 every reminder is "too early": the lead's own message says it all.
  const reminders = v.noticeLeadHours > 0
    ? reminderProblem(v.reminderLeadHours, v.noticeLeadHours)
    : null;
  if (reminders) {
    ctx.addIssue({
      code: "custom",
      path: ["reminderLeadHours"],
      message: reminders,
    });
  }
  eitherIdsOrSelector(v, ctx);
  timingRefine(v, ctx);
  const firstTime = v.scheduledAt ?? v.timing?.notBefore;
  if (
    v.ownerMayPostpone && firstTime &&
    Date.parse(v.ownerMayPostpone.until) <= Date.parse(firstTime)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["ownerMayPostpone", "until"],
      message:
        "must be later than scheduledAt: owners postpone to a later time",
    });
  }
  if (v.gate && (v.waves?.length ?? 0) < 2) {
    ctx.addIssue({
      code: "custom",
      path: ["gate"],
      message:
        "a gate judges a wave before the next one starts: give at least two waves",
    });
  }
}

/** scheduledAt or timing (or both, agreeing), and no waves beside timing. */
function timingRefine(
  v: {
    scheduledAt?: string;
    waves?: unknown[];
    timing?: z.output<typeof OwnerWindowTimingSchema>;
  },
  ctx: z.RefinementCtx,
) {
  if (!v.timing) {
    if (v.scheduledAt === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["scheduledAt"],
        message:
          'is required (or give timing: {mode: "owner_window", notBefore, deadline})',
      });
    }
    return;
  }
  const { notBefore, deadline } = v.timing;
  if (Date.parse(deadline) <= Date.parse(notBefore)) {
    ctx.addIssue({
      code: "custom",
      path: ["timing", "deadline"],
      message: "must be later than timing.notBefore",
    });
  }
  if (
    v.scheduledAt !== undefined &&
    Date.parse(v.scheduledAt) !== Date.parse(notBefore)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["scheduledAt"],
      message:
        "must equal timing.notBefore when timing is given (or leave it out)",
    });
  }
  if (v.waves?.length) {
    ctx.addIssue({
      code: "custom",
      path: ["timing"],
      message:
        "waves and owners' maintenance windows cannot be combined yet: give one or the other",
    });
  }
}

/** With timing, the action's first time is notBefore. */
function withFirstTime<
  T extends { scheduledAt?: string; timing?: { notBefore: string } },
>(
  v: T,
): T & { scheduledAt: string } {
  return { ...v, scheduledAt: v.scheduledAt ?? v.timing?.notBefore ?? "" };
}

export const ScheduleInputSchema = z.discriminatedUnion("actionType", [
  z.strictObject({ actionType: z.literal("scheduled_restart"), ...common }),
  z.strictObject({
    actionType: z.literal("version_change"),
    imageTag,
    ...common,
  }),
]).superRefine(scheduleRefine).transform(withFirstTime);

export type ScheduleInput = z.output<typeof ScheduleInputSchema>;

/**
 * Beside the schedule, in the same strict body: `skipPending` leaves out
 * instances another action holds instead of answering 409.
 */
const scheduleOptions = { skipPending: z.boolean().default(false) };

/** `POST /api/admin/scheduled-actions`. */
export const ScheduleRequestSchema = z.discriminatedUnion("actionType", [
  z.strictObject({
    actionType: z.literal("scheduled_restart"),
    ...common,
    ...scheduleOptions,
  }),
  z.strictObject({
    actionType: z.literal("version_change"),
    imageTag,
    ...common,
    ...scheduleOptions,
  }),
]).superRefine(scheduleRefine).transform(withFirstTime);

/** The dry run: the same body, and whose view to render. */
const previewOptions = {
  ...scheduleOptions,
  sampleOwnerId: IdSchema.nullish().transform((v) => v ?? null),
};
export const PreviewRequestSchema = z.discriminatedUnion("actionType", [
  z.strictObject({
    actionType: z.literal("scheduled_restart"),
    ...common,
    ...previewOptions,
  }),
  z.strictObject({
    actionType: z.literal("version_change"),
    imageTag,
    ...common,
    ...previewOptions,
  }),
]).superRefine(scheduleRefine).transform(withFirstTime);

/** The optional body of the cancel endpoints: `{reason?}`. */
export const CancelBodySchema = z.strictObject({
  reason: textField({ max: 256 }).nullish().transform((v) => v || null),
});

/** A cancel may come with no body at all (the reason is optional). */
export async function readCancelReason(req: Request): Promise<string | null> {
  return parseOrThrow(CancelBodySchema, await readOptionalJson(req)).reason;
}

/** The same body under the name the audit-recording routes used. */
export const CancelInputSchema = CancelBodySchema;

/** The body of `POST /api/admin/scheduled-actions/:id/reschedule`. */
export const RescheduleInputSchema = z.strictObject({
  scheduledAt,
  noticeLeadHours: noticeLeadHours.optional(),
  reason: textField({ max: 256 }).nullish().transform((v) => v || null),
});
export type RescheduleInput = z.output<typeof RescheduleInputSchema>;
