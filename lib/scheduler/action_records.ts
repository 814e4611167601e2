/**
 * The records of a new action: the action, its stages (one per wave), a
 * pending target per instance and each target's notification rows. The
 * write within the request (schedule.ts) and the background write of a
 * large action (prepare.ts) build them alike; the review builds the same for
 * its sample.
 */
import { buildNoticeRows } from "../notices/rows.ts";
import type {
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  StageGate,
  Target,
} from "../types.ts";
import type { PlannedWave } from "./waves.ts";
import type { ScheduleInput } from "./schemas.ts";

export interface NewActionOptions {
  id: string;
  createdBy: string;
  scheduledAt: string;
  now: number;
  /** The rollout's waves (absent: one stage of every instance at `scheduledAt`). */
  waves?: PlannedWave[];
  /** The waves are owners' window times: stages that wait for no other, without soak. */
  ownerWindows?: boolean;
  rollbackOf?: string;
  /** Written on a large action while its targets are written (`preparing`). */
  preparing?: { total: number };
}

/** The action record and its stages (one per wave), before any target. */
export function newActionAndStages(
  input: ScheduleInput,
  instanceIds: () => string[],
  o: NewActionOptions,
): { action: ScheduledAction; stages: Stage[]; waves: PlannedWave[] } {
  const at = new Date(o.now).toISOString();
  const imageTag = input.actionType === "version_change"
    ? input.imageTag
    : null;
  const action: ScheduledAction = {
    id: o.id,
    actionType: input.actionType,
    imageTag,
    overridePins: input.overridePins,
    reason: input.reason,
    notify: input.notify,
    noticeLeadHours: input.noticeLeadHours,
    reminderLeadHours: input.reminderLeadHours,
    doneChannels: input.doneChannels,
    noticeSubject: input.noticeSubject,
    noticeBody: input.noticeBody,
    noticeChannels: input.noticeChannels,
    ...(input.waves?.length ? { waves: input.waves, gate: input.gate } : {}),
    ...(input.timing ? { timing: input.timing } : {}),
    ...(o.rollbackOf ? { rollbackOf: o.rollbackOf } : {}),
    ...(input.ownerMayPostpone
      ? {
        ownerMayPostpone: {
          until: new Date(Date.parse(input.ownerMayPostpone.until))
            .toISOString(),
          times: input.ownerMayPostpone.times,
        },
      }
      : {}),
    status: o.preparing ? "preparing" : "scheduled",
    ...(o.preparing ? { preparing: o.preparing } : {}),
    createdBy: o.createdBy,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
    cancelledAt: null,
  };
  const waves = o.waves ?? [{
    index: 0,
    scheduledAt: o.scheduledAt,
    soakMinutes: 0,
    instanceIds: instanceIds(),
    expectedApplyMinutes: 0,
  }];
  const gated = !!action.gate;
  const stages: Stage[] = waves.map((w) => ({
    actionId: action.id,
    index: w.index,
    scheduledAt: w.scheduledAt,
    status: "pending",
    startedAt: null,
    finishedAt: null,
    ...(o.ownerWindows
      ? { waitsFor: null }
      : o.waves
      ? { soakMinutes: w.soakMinutes, soakUntil: null }
      : {}),
    // The last wave has nothing after it to hold back: no gate.
    ...(gated && w.index < waves.length - 1 ? { gate: emptyGate() } : {}),
  }));
  return { action, stages, waves };
}

/** A new pending target of `instance` in `action`'s stage `stageIndex`. */
export function newTarget(
  action: ScheduledAction,
  instance: Pick<Instance, "id" | "ownerId" | "imageTag" | "pinnedImageTag">,
  o: {
    id: string;
    stageIndex: number;
    at: string;
    targetImageTag?: string;
  },
): Target {
  return {
    id: o.id,
    actionId: action.id,
    stageIndex: o.stageIndex,
    instanceId: instance.id,
    userId: instance.ownerId,
    sourceImageTag: instance.imageTag,
    targetImageTag: o.targetImageTag ?? action.imageTag ?? instance.imageTag,
    sourcePinnedImageTag: instance.pinnedImageTag,
    status: "pending",
    skipReason: null,
    error: null,
    claimedAt: null,
    finishedAt: null,
    updatedAt: o.at,
    attempts: 0,
  };
}

/**
 * A new target's notification rows. A notice whose lead is longer than the
 * time left is due now, never at a past time (as a move that brings the
 * time closer does it).
 */
export function newTargetRows(
  action: ScheduledAction,
  stage: Stage,
  target: Target,
  now: number,
): Notification[] {
  return buildNoticeRows(action, stage, target, now).map((row) =>
    row.kind === "notice" ? { ...row, dueAt: Math.max(now, row.dueAt) } : row
  );
}

export function newActionRecords(
  input: ScheduleInput,
  instances: Instance[],
  o: NewActionOptions & {
    targetId: () => string;
    targetImageTags?: ReadonlyMap<string, string>;
  },
): {
  action: ScheduledAction;
  /** The first stage. */
  stage: Stage;
  stages: Stage[];
  targets: Target[];
} {
  const { action, stages, waves } = newActionAndStages(
    input,
    () => instances.map((i) => i.id),
    o,
  );
  const stageOf = new Map<string, number>();
  for (const w of waves) {
    for (const id of w.instanceIds) stageOf.set(id, w.index);
  }
  const at = new Date(o.now).toISOString();
  const targets: Target[] = instances.map((i) =>
    newTarget(action, i, {
      id: o.targetId(),
      stageIndex: stageOf.get(i.id) ?? 0,
      at,
      targetImageTag: o.targetImageTags?.get(i.id),
    })
  );
  return { action, stage: stages[0], stages, targets };
}

/** A gate that has not read anything yet. */
export function emptyGate(): StageGate {
  return {
    verdict: null,
    at: null,
    failedPercent: 0,
    unhealthyPercent: 0,
    healthy: 0,
    unhealthy: 0,
    unknown: 0,
    checked: 0,
    nextAt: null,
  };
}
