/**
 * Hand-built domain records for tests: each shape written once, with the
 * defaults the fixtures use (a notified restart, stage 0, a pending target).
 * Ids default to fresh `newId()`s, drawn only when not overridden.
 */
import { newId } from "@/lib/ids.ts";
import type { ScheduledAction, Stage, Target } from "@/lib/types.ts";

/** A scheduled restart, created and updated at `now`, notifying on every channel. */
export function makeAction(
  overrides: Partial<ScheduledAction> = {},
  now: number = Date.now(),
): ScheduledAction {
  const at = new Date(now).toISOString();
  return {
    id: overrides.id ?? newId(),
    actionType: "scheduled_restart",
    imageTag: null,
    overridePins: false,
    reason: null,
    status: "scheduled",
    createdBy: "admin",
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
    cancelledAt: null,
    notify: true,
    noticeLeadHours: 24,
    noticeSubject: null,
    noticeBody: null,
    noticeChannels: ["email", "webapp", "mobile_push"],
    ...overrides,
  };
}

/** The action's pending stage 0 at `scheduledAt` (epoch ms, or an ISO string kept as given). */
export function makeStage(
  action: Pick<ScheduledAction, "id">,
  scheduledAt: number | string,
  overrides: Partial<Stage> = {},
): Stage {
  return {
    actionId: action.id,
    index: 0,
    scheduledAt: typeof scheduledAt === "number"
      ? new Date(scheduledAt).toISOString()
      : scheduledAt,
    status: "pending",
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

/** Which instance a target is for, and the tag it runs now. */
export interface TargetInstance {
  instanceId: string;
  userId: string;
  sourceImageTag: string;
}

/**
 * A pending stage-0 target of `action` for one instance: it moves to the
 * action's image tag (a restart keeps the source tag), stamped at the action's
 * `createdAt`.
 */
export function makeTarget(
  action: Pick<ScheduledAction, "id" | "imageTag" | "createdAt">,
  instance: TargetInstance,
  overrides: Partial<Target> = {},
): Target {
  return {
    id: overrides.id ?? newId(),
    actionId: action.id,
    stageIndex: 0,
    instanceId: instance.instanceId,
    userId: instance.userId,
    sourceImageTag: instance.sourceImageTag,
    targetImageTag: action.imageTag ?? instance.sourceImageTag,
    status: "pending",
    skipReason: null,
    error: null,
    claimedAt: null,
    finishedAt: null,
    updatedAt: action.createdAt,
    ...overrides,
  };
}
