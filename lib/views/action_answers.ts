/**
 * The shapes the scheduling API answers with, as zod schemas: the OpenAPI
 * document is built from them and the tests check real answers against it.
 * Side-effect free (no KV, no routes), so anything may import it.
 */
import { z } from "zod";
import { TARGET_OUTCOMES, type TargetOutcome } from "../types.ts";

const at = z.iso.datetime();
/** Counts, indexes, hours and epoch times: whole and never negative. */
const count = z.number().int().nonnegative();
const maybeAt = at.nullable();

export const ChannelSchema = z.enum(["email", "webapp", "mobile_push"]);
export const ActionTypeSchema = z.enum(["scheduled_restart", "version_change"]);
export const ActionStatusSchema = z.enum([
  "scheduled",
  "running",
  "completed",
  "failed",
  "cancelled",
  "paused",
  "preparing",
]).meta({
  description:
    "`paused`: a rollout's health gate stopped it after a wave; nothing new starts until it is resumed, aborted or rolled back. `preparing`: a large action whose instances are still being written in the background; nothing is sent or applied until it turns `scheduled`, and only a cancel may change it meanwhile (anything else is a 409).",
});
const StageStatusSchema = z.enum([
  "pending",
  "running",
  "completed",
  "cancelled",
  "failed",
]);
const TargetStatusSchema = z.enum([
  "pending",
  "running",
  "applied",
  "skipped",
  "failed",
]);
const SkipReasonSchema = z.enum([
  "cancelled",
  "pinned",
  "pin_changed_in_flight",
  "destroyed",
]);
const NotificationKindSchema = z.enum([
  "notice",
  "reminder",
  "cancelled",
  "rescheduled",
  "on_hold",
  "done",
]);
const NotificationStatusSchema = z.enum([
  "pending",
  "sending",
  "sent",
  "failed",
]);

export const ScheduledActionSchema = z.object({
  id: z.string(),
  actionType: ActionTypeSchema,
  imageTag: z.string().nullable().meta({
    description:
      "The target image tag of a version change; null for a restart.",
  }),
  overridePins: z.boolean(),
  reason: z.string().nullable(),
  notify: z.boolean(),
  noticeLeadHours: count,
  reminderLeadHours: z.array(count).optional(),
  doneChannels: z.array(ChannelSchema).optional(),
  noticeSubject: z.string().nullable(),
  noticeBody: z.string().nullable(),
  noticeChannels: z.array(ChannelSchema),
  status: ActionStatusSchema,
  waves: z.array(z.object({
    percent: count.optional(),
    count: count.optional(),
    instanceIds: z.array(z.string()).optional(),
    soakMinutes: count,
  })).optional().meta({
    description:
      "The rollout's waves as scheduled; absent: one wave, every instance at once.",
  }),
  gate: z.object({
    maxFailedPercent: z.number(),
    maxUnhealthyPercent: z.number(),
  }).nullable().optional().meta({
    description: "The health gate judged after each wave's soak.",
  }),
  abortedAfterWave: count.nullable().optional().meta({
    description:
      "Set when an admin aborted the rollout: how many waves had been applied (1 = after the first).",
  }),
  rollbackOf: z.string().nullable().optional().meta({
    description: "A rollback: the id of the action whose waves it moves back.",
  }),
  calendarSequence: count.optional(),
  preparing: z.object({
    total: count,
    leftOut: count.optional(),
    writtenAt: at.optional(),
  }).optional().meta({
    description:
      "A large action written in the background: how many instances it was scheduled for; once written, `leftOut` (instances another action took, or that were destroyed, meanwhile) and `writtenAt`. Absent for an action written within its request.",
  }),
  timing: z.object({
    mode: z.literal("owner_window"),
    notBefore: at,
    deadline: at,
  }).optional().meta({
    description:
      "Each instance at its owner's first maintenance window start in [notBefore, deadline], or notBefore.",
  }),
  ownerMayPostpone: z.object({ until: at, times: count }).nullable()
    .optional().meta({
      description: "Owners may postpone until this time, this many times.",
    }),
  createdBy: z.string(),
  createdAt: at,
  updatedAt: at,
  startedAt: maybeAt,
  finishedAt: maybeAt,
  cancelledAt: maybeAt,
}).meta({ id: "ScheduledAction" });

export const StageSchema = z.object({
  actionId: z.string(),
  index: count,
  scheduledAt: at,
  status: StageStatusSchema,
  startedAt: maybeAt,
  finishedAt: maybeAt,
  soakMinutes: count.optional(),
  soakUntil: maybeAt.optional(),
  gate: z.object({
    verdict: z.enum(["passed", "failed"]).nullable(),
    at: maybeAt,
    failedPercent: z.number(),
    unhealthyPercent: z.number(),
    healthy: count,
    unhealthy: count,
    unknown: count,
    checked: count,
  }).nullable().optional(),
  waitsFor: count.nullable().optional().meta({
    description:
      "The stage that must be done first; null: none; absent: the one before.",
  }),
  origin: z.literal("postponed").optional().meta({
    description: "Made by an owner's postpone.",
  }),
}).meta({ id: "Stage" });

const percentShare = z.number().min(0).max(100);

/** One wave as the action's answers show it: its counters, health and gate. */
export const StageDetailSchema = StageSchema.extend({
  size: count.meta({
    description: "The wave's targets, whatever became of them.",
  }),
  applied: count,
  skipped: count.meta({
    description:
      "Skipped when applied (pinned, destroyed…), cancellations left out.",
  }),
  failed: count,
  cancelled: count,
  healthy: count.meta({
    description:
      "Changed instances the controller called healthy at the gate's last reading.",
  }),
  unhealthy: count,
  unknown: count,
  soakMinutes: count,
  soakUntil: maybeAt.meta({
    description:
      "When the soak ends and the gate judges; set once the wave's changes landed.",
  }),
  gate: z.object({
    verdict: z.enum(["passed", "failed"]).nullable(),
    at: maybeAt,
    failedPercent: percentShare,
    unhealthyPercent: percentShare,
    resumedAt: maybeAt.meta({
      description:
        "When an admin resumed the rollout over this wave's failed verdict (null: never).",
    }),
  }).nullable().meta({
    description:
      "The gate's reading of this wave; null when no gate judges it (the last wave, or no gate).",
  }),
}).meta({ id: "StageDetail" });

export const ActionCountersSchema = z.object({
  total: count,
  applied: count,
  skipped: count.meta({
    description: "Every target that ended skipped, cancelled ones included.",
  }),
  failed: count,
}).meta({ id: "ActionCounters" });

const ProgressCountsSchema = z.object({
  total: count,
  applied: count,
  skipped: count.meta({
    description:
      "Skipped when applied (pinned, destroyed…), cancellations left out.",
  }),
  failed: count,
  cancelled: count,
}).meta({ id: "ProgressCounts" });

export const TargetSchema = z.object({
  id: z.string(),
  actionId: z.string(),
  stageIndex: count,
  instanceId: z.string(),
  userId: z.string(),
  sourceImageTag: z.string(),
  targetImageTag: z.string(),
  sourcePinnedImageTag: z.string().nullable().optional(),
  status: TargetStatusSchema,
  skipReason: SkipReasonSchema.nullable(),
  error: z.string().nullable(),
  claimedAt: maybeAt,
  finishedAt: maybeAt,
  updatedAt: at,
  attempts: count.optional(),
}).meta({ id: "Target" });

const EarlierSendSchema = z.object({
  movedFrom: at,
  movedTo: at,
  sentAt: maybeAt,
});

export const NotificationSchema = z.object({
  id: z.string(),
  actionId: z.string(),
  stageIndex: count,
  targetId: z.string(),
  instanceId: z.string(),
  userId: z.string(),
  kind: NotificationKindSchema,
  channel: ChannelSchema,
  status: NotificationStatusSchema,
  dueAt: count.meta({
    description:
      "When it is due (epoch ms). 8640000000000000, the largest time a Date holds, while a paused rollout holds the warning: a resume re-times it, an abort cancels it.",
  }),
  attempts: count,
  groupId: z.string().nullable(),
  claimId: z.string().nullable(),
  claimedAt: maybeAt,
  sentAt: maybeAt,
  error: z.string().nullable(),
  detail: z.string().nullable().optional(),
  deliveryUncertain: z.boolean().optional(),
  turnedOff: z.boolean().optional().meta({
    description: "A warning not sent: its owner turned this channel off.",
  }),
  quietUntil: at.optional().meta({
    description:
      "A push warning held back until the owner's quiet hours end (its due time then).",
  }),
  reminderLeadHours: count.optional(),
  movedFrom: at.optional(),
  movedTo: at.optional(),
  earlierSends: z.array(EarlierSendSchema).optional(),
  createdAt: at,
  updatedAt: at,
}).meta({ id: "Notification" });

const NoticeTallySchema = z.object({
  kind: NotificationKindSchema,
  channel: ChannelSchema,
  pending: count.meta({
    description: "Still to be sent: waiting, or held by a sweep's claim.",
  }),
  sent: count,
  notDelivered: count.meta({
    description: "A push sent to no device: the owner had none.",
  }),
  failed: count,
}).meta({
  id: "NoticeTally",
  description:
    "One kind of notice on one channel, by state, over every row: exact for any number of targets.",
});

const TargetWithNotificationsSchema = z.object({
  target: TargetSchema,
  notifications: z.array(NotificationSchema),
});

const cursor = z.string().nullable().meta({
  description: "Pass back as `cursor` for the next page; null on the last.",
});

const WarningSchema = z.object({
  code: z.string(),
  message: z.string(),
}).meta({ id: "ScheduleWarning" });

const WriteProgressSchema = z.object({
  written: count.meta({ description: "Instances written so far." }),
  total: count.meta({ description: "Instances it was scheduled for." }),
  leftOut: count.meta({
    description:
      "Instances another action took, or that were destroyed, while it was written (counted as each part of the write ends).",
  }),
});

/**
 * A large action's background write, in the answers that read an action:
 * how far it got while `preparing`, what it came to after.
 */
export const PreparingSchema = z.union([
  WriteProgressSchema.meta({
    description: "While the action is `preparing`.",
  }),
  z.object({
    total: count,
    leftOut: count,
    writtenAt: maybeAt.meta({
      description:
        "When the last instance was written; null: cancelled before it was written whole.",
    }),
  }).meta({ description: "After: what the write came to." }),
]).meta({
  id: "Preparing",
  description:
    "Only for an action written in the background (over `SCHEDULE_INLINE_TARGETS` instances); absent for any other.",
});

/** `POST /api/admin/scheduled-actions`. */
export const ScheduleResultSchema = z.object({
  id: z.string(),
  action: ScheduledActionSchema,
  stage: StageSchema.meta({ description: "The first stage (wave 1)." }),
  stages: z.array(StageSchema).meta({
    description: "Every stage, one per wave (one without waves).",
  }),
  counters: ActionCountersSchema,
  targets: z.object({ total: count }),
  excluded: z.object({
    destroyed: z.array(z.string()),
    pinned: z.array(z.string()),
    alreadyOnTag: z.array(z.string()),
    pending: z.array(z.string()),
  }).meta({ description: "Instance ids left out, by why." }),
  warnings: z.array(WarningSchema),
  windows: z.object({ fellBack: count }).optional().meta({
    description:
      "With owners' windows: instances at notBefore for want of a window in range.",
  }),
  preparing: WriteProgressSchema.optional().meta({
    description:
      "Only in a 202: the action is `preparing` and its instances are written in the background; `counters` and `stages` fill in as they are.",
  }),
}).meta({ id: "ScheduleResult" });

/** `GET /api/admin/scheduled-actions`. */
export const ActionListSchema = z.object({
  items: z.array(z.object({
    action: ScheduledActionSchema,
    label: z.string().meta({ example: "Version change to OpenClaw 1.9.0" }),
    openclawVersion: z.string().nullable(),
    counters: ActionCountersSchema,
    progress: ProgressCountsSchema,
    stages: z.array(StageSchema),
    notices: z.array(NoticeTallySchema),
    preparing: PreparingSchema.optional(),
  })),
  cursor,
}).meta({ id: "ActionList" });

/** `GET /api/admin/scheduled-actions/:id`. */
export const ActionDetailSchema = z.object({
  action: ScheduledActionSchema,
  counters: ActionCountersSchema,
  stages: z.array(StageDetailSchema).meta({
    description: "One per wave, first first (one for an action without waves).",
  }),
  notices: z.array(NoticeTallySchema),
  stageNotices: z.array(z.object({
    stageIndex: count,
    notices: z.array(NoticeTallySchema),
  })),
  targets: z.object({
    items: z.array(TargetWithNotificationsSchema),
    cursor,
  }),
  preparing: PreparingSchema.optional(),
}).meta({ id: "ActionDetail" });

const NotMovedTargetSchema = z.object({
  targetId: z.string(),
  instanceId: z.string(),
  status: TargetStatusSchema,
  skipReason: SkipReasonSchema.nullable(),
});

/** `POST /api/admin/scheduled-actions/:id/reschedule`. */
export const RescheduledActionSchema = z.object({
  ...ActionDetailSchema.shape,
  reschedule: z.object({
    from: at,
    to: at,
    noticeLeadHours: z.object({ from: z.number(), to: z.number() }),
    moved: count,
    notMoved: z.array(NotMovedTargetSchema),
    notMovedCount: count,
    inFlight: count,
  }),
}).meta({ id: "RescheduledAction" });

/** `POST /api/admin/scheduled-actions/:id/resume`: the action, and what the resume moved. */
export const ResumedActionSchema = z.object({
  ...ActionDetailSchema.shape,
  resume: z.object({
    from: at.meta({ description: "When the next wave was planned before." }),
    to: at.meta({ description: "When it starts now." }),
    moved: count.meta({ description: "Targets given their new time." }),
    inFlight: count.meta({
      description:
        "Owners whose warning was being sent as the resume landed: they get a rescheduled notice once it is marked.",
    }),
  }),
}).meta({ id: "ResumedAction" });

/** `POST /api/admin/scheduled-actions/:id/cancel`: the action as it is now. */
export const CancelActionResultSchema = z.object({
  action: ScheduledActionSchema,
  counters: ActionCountersSchema,
}).meta({ id: "CancelActionResult" });

/** `POST /api/admin/scheduled-actions/:id/recount`. */
export const RecountReportSchema = z.object({
  actionId: z.string(),
  corrected: count.meta({
    description:
      "Counter keys whose stored value differed from the rows, now rewritten (0: all matched).",
  }),
  changes: z.array(z.object({
    key: z.array(z.union([z.string(), z.number()])),
    was: z.string(),
    now: z.string(),
  })).meta({
    description: "The first 50 corrections: the key, its old and new value.",
  }),
}).meta({ id: "RecountReport" });

/** `POST …/targets/:targetId/cancel`: the action and that target as they are now. */
export const CancelTargetResultSchema = z.object({
  action: ScheduledActionSchema,
  target: TargetSchema,
}).meta({ id: "CancelTargetResult" });

const CancellationSchema = z.object({
  actionId: z.string(),
  targetId: z.string().nullable(),
  byUserId: z.string(),
  byLabel: z.string(),
  at: at,
  reason: z.string().nullable(),
}).meta({ id: "Cancellation" });

export const SweepRunSchema = z.object({
  processed: count,
  sent: count,
  failed: count,
  recovered: count,
  voidedStale: count,
  retried: count.optional(),
  deferred: count.optional(),
  unmarked: count.optional(),
  errors: count.optional(),
  claimsLost: count.optional(),
  startedAt: at,
  finishedAt: at,
  durationMs: z.number(),
}).meta({ id: "SweepRun" });

const RollbackLinkSchema = z.object({
  id: z.string(),
  label: z.string(),
  status: ActionStatusSchema,
});

/** `GET /api/admin/scheduled-actions/:id/progress`: what the action page shows. */
export const ActionProgressSchema = z.object({
  action: ScheduledActionSchema.extend({
    label: z.string(),
    creator: z.string(),
  }),
  scheduledAt: maybeAt,
  stageStatus: StageStatusSchema.nullable(),
  stages: z.array(StageDetailSchema),
  rollback: z.object({
    of: RollbackLinkSchema.nullable(),
    by: RollbackLinkSchema.nullable(),
  }),
  counters: ProgressCountsSchema,
  notices: z.object({
    channels: z.array(z.object({
      kind: NotificationKindSchema,
      channel: ChannelSchema,
      sent: count,
      notDelivered: count,
      pending: count,
      failed: count,
    })),
    nextDueAt: maybeAt,
  }),
  cancellation: CancellationSchema.nullable(),
  outcomes: z.object(
    Object.fromEntries(TARGET_OUTCOMES.map((o) => [o, count])) as Record<
      TargetOutcome,
      typeof count
    >,
  ).meta({ description: "How many targets have each outcome, exact." }),
  outcome: z.enum(TARGET_OUTCOMES).nullable().meta({
    description: "The outcome the targets listed have; null: all of them.",
  }),
  targets: z.array(z.object({
    id: z.string(),
    instanceId: z.string(),
    instanceName: z.string().nullable(),
    owner: z.string(),
    from: z.string(),
    to: z.string(),
    status: TargetStatusSchema,
    skipReason: SkipReasonSchema.nullable(),
    error: z.string().nullable(),
    finishedAt: maybeAt,
    cancellation: CancellationSchema.nullable(),
    notices: z.array(z.object({
      id: z.string(),
      kind: NotificationKindSchema,
      reminderLeadHours: count.nullable(),
      channel: ChannelSchema,
      status: NotificationStatusSchema,
      noDevice: z.boolean(),
      turnedOff: z.boolean().meta({
        description:
          "a warning not sent because the owner turned this channel off in their settings",
      }),
      quietHours: z.boolean().meta({
        description:
          "a push warning waiting, due when the owner's quiet hours end",
      }),
      recipient: z.string(),
      attempts: count,
      error: z.string().nullable(),
      held: z.boolean().meta({
        description:
          "a warning a paused rollout holds: no due time until it is resumed",
      }),
      dueAt: maybeAt,
      retry: z.boolean(),
      sentAt: maybeAt,
      outboxId: z.string().nullable(),
      earlier: z.array(EarlierSendSchema),
    })),
  })),
  cursor,
  lastRun: SweepRunSchema.nullable(),
  live: z.boolean(),
  preparing: PreparingSchema.optional(),
}).meta({ id: "ActionProgress" });

const InstanceRefSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
});

const OwnerRefSchema = z.object({
  id: z.string(),
  label: z.string(),
  timeZone: z.string().nullable(),
  devices: count,
});

export const IssueSchema = z.object({ path: z.string(), message: z.string() });

/**
 * `POST /api/admin/scheduled-actions/preview`. Open-ended below its top
 * level: the review grows with the form, and clients read what they know.
 */
export const SchedulePreviewSchema = z.looseObject({
  ready: z.boolean().meta({
    description: "Nothing stops scheduling it as it is.",
  }),
  problems: z.array(IssueSchema),
  actionType: ActionTypeSchema,
  targetImageTag: z.string().nullable(),
  targetOpenclawVersion: z.string().nullable(),
  scheduledAt: maybeAt,
  notice: z.looseObject({
    channels: z.array(ChannelSchema),
    leadHours: z.number(),
    at: maybeAt,
  }),
  requested: count,
  affected: z.object({ instances: count, owners: count }),
  leftOut: z.record(
    z.string(),
    z.object({ count: count, items: z.array(InstanceRefSchema) }),
  ),
  skipPending: z.boolean(),
  owners: z.array(OwnerRefSchema),
  ownersWithoutDevice: count,
  sample: z.looseObject({
    owner: OwnerRefSchema,
    instance: z.object({ id: z.string(), name: z.string() }),
  }).nullable(),
  warnings: z.array(WarningSchema),
  stages: z.array(z.object({
    index: count,
    scheduledAt: at,
    size: count,
    soakMinutes: count,
    expectedApplyMinutes: count,
    sample: z.array(z.object({ instanceId: z.string(), name: z.string() }))
      .max(5),
  })).meta({
    description:
      "The plan, one stage per wave (one without waves), timed as the write times them: each wave after the one before is expected to be applied (its size × `rollout.expectedCallMs` / `rollout.concurrency`, whole minutes, at least one) and has soaked. Each wave's `sample` names a few of its instances: beyond a hand-picked canary it is illustrative, as the write draws the waves with the new action's own id.",
  }),
  rollout: z.object({
    expectedCallMs: count,
    concurrency: count,
    gate: z.object({
      maxFailedPercent: z.number(),
      maxUnhealthyPercent: z.number(),
    }).nullable(),
  }),
}).meta({ id: "SchedulePreview" });

const BannerActionSchema = z.object({
  scheduledActionId: z.string(),
  actionType: ActionTypeSchema,
  scheduledAt: at,
  targetImageTag: z.string().nullable(),
  targetOpenclawVersion: z.string().nullable(),
  onHold: z.boolean().optional().meta({
    description:
      "The rollout paused before this instance's wave: the time above will not happen, and the owner is told the new one once it is set.",
  }),
}).meta({ id: "BannerAction" });

const CancelledBannerActionSchema = BannerActionSchema.extend({
  cancelledAt: at,
}).meta({ id: "CancelledBannerAction" });

/** `GET /api/instances/:id/status`: what the owner's workspace banner reads. */
export const InstanceStatusSchema = z.object({
  instanceId: z.string(),
  name: z.string(),
  status: z.enum(["running", "destroyed"]),
  imageTag: z.string(),
  scheduledAction: BannerActionSchema.nullable(),
  cancelledAction: CancelledBannerActionSchema.optional(),
  postpone: z.object({
    allowed: z.boolean(),
    reason: z.string().nullable().describe(
      "Why it cannot be postponed now: urgent, limit reached, within the last hour, started…",
    ),
    scheduledAt: at,
    until: at.nullable(),
    left: z.number().int(),
    earliest: at,
    windowStarts: z.array(at).describe(
      "The owner's next maintenance window starts in [earliest, until], to suggest first",
    ),
  }).nullable().describe(
    "Whether the owner may postpone the change shown (null: nothing shown)",
  ),
}).meta({ id: "InstanceStatus" });

/** `GET /api/instances`: a page of the owner's own instances. */
export const OwnInstancesSchema = z.object({
  items: z.array(z.object({
    instanceId: z.string(),
    name: z.string(),
    status: z.enum(["running", "destroyed"]),
    imageTag: z.string(),
    openclawVersion: z.string().nullable(),
    scheduledAction: BannerActionSchema.nullable(),
    cancelledAction: CancelledBannerActionSchema.optional(),
  })),
  page: count,
  pages: count,
}).meta({ id: "OwnInstances" });

const LeadAtSchema = z.object({ leadHours: count, at });

/** `POST /api/admin/scheduled-actions/:id/reschedule/preview`: the move's dry run. */
export const MovePreviewSchema = z.object({
  from: at.meta({ description: "The time the action is scheduled for now." }),
  to: at.meta({ description: "The time it would move to." }),
  notice: z.object({
    at: at.meta({
      description: "When owners not yet warned would get their notice.",
    }),
    atOnce: z.boolean().meta({
      description:
        "The lead is longer than the time left: the notice goes out with the next sweep.",
    }),
    leadHours: count,
  }).nullable().meta({
    description:
      "For owners not yet warned; null when the action tells nobody.",
  }),
  reminders: z.array(LeadAtSchema).meta({
    description: "Reminders at the new time still ahead, largest lead first.",
  }),
  sample: z.object({
    owner: z.string(),
    instance: z.string(),
    email: z.object({ subject: z.string(), text: z.string() }).nullable(),
    push: z.object({ title: z.string(), body: z.string() }).nullable(),
  }).nullable().meta({
    description:
      "What one owner already warned gets about the move, on the channels that warned them; null when the action tells nobody.",
  }),
}).meta({ id: "MovePreview" });
