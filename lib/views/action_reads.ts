/**
 * What the actions list and one action's page read, each in one call: a page
 * of actions with their counters, one action in detail with its targets and
 * their notices, an action still pending.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import {
  getActionCounters,
  getPendingTargetLock,
  getProgressCounts,
  getStageCounts,
  getStageEntries,
  getTargetEntries,
  listTargetIdsOfAction,
} from "../kv/actions.ts";
import { listCursor } from "../kv/cursor.ts";
import {
  ensureOutcomeIndex,
  listTargetIdsByOutcome,
} from "../apply/target_outcomes.ts";
import { readTargetRows } from "../notices/rows.ts";
import {
  type NoticeTally,
  readNoticeCounts,
  readStageNoticeCounts,
} from "../notices/counters.ts";
import { NotFoundError } from "../errors.ts";
import type { PreparingView, StageView } from "./action_view_model.ts";
import { TARGET_OUTCOMES } from "../types.ts";
import { preparingProgress } from "../scheduler/prepare_plan.ts";
import type {
  ActionCounters,
  Notification,
  ProgressCounts,
  ScheduledAction,
  Stage,
  Target,
  TargetOutcome,
} from "../types.ts";
export interface ActionSummary {
  action: ScheduledAction;
  counters: ActionCounters;
  stages: Stage[];
  /** The action's notification rows per kind and channel (those that have any), exact. */
  notices: NoticeTally[];
  /** The same per stage, by stage index. */
  stageNotices: { stageIndex: number; notices: NoticeTally[] }[];
}

/** The most actions, and targets of one action, a page may hold. */
export const MAX_ACTION_PAGE = 200;
export const MAX_TARGET_PAGE = 500;

/** `GET /api/admin/scheduled-actions`: a page of actions. */
export const PageQuerySchema = z.object({
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ACTION_PAGE).optional(),
});

/** `?outcome=`: only the targets with this outcome (`cancelled` apart from the other skips). */
export const OutcomeQuerySchema = z.enum(TARGET_OUTCOMES, {
  error: `must be one of ${TARGET_OUTCOMES.join(", ")}`,
}).meta({
  description:
    "Only the targets with this outcome: a target's status, with `cancelled` (skipped because an admin cancelled) apart from `skipped`. Paged by the same cursor.",
});

/** The action page's own query: the outcome its target table shows. */
export const ProgressQuerySchema = z.object({
  outcome: OutcomeQuerySchema.optional(),
});

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last one. */
  cursor: string | null;
}

async function summary(
  kv: Deno.Kv,
  action: ScheduledAction,
): Promise<ActionSummary> {
  const [counters, stages, notices, byStage] = await Promise.all([
    getActionCounters(kv, action.id),
    getStageEntries(kv, action.id),
    readNoticeCounts(kv, action.id),
    readStageNoticeCounts(kv, action.id),
  ]);
  return {
    action,
    counters,
    stages: stages.map((s) => s.value),
    notices,
    stageNotices: [...byStage].sort(([a], [b]) => a - b).map((
      [stageIndex, notices],
    ) => ({ stageIndex, notices })),
  };
}

/** Visible actions, newest first (ids are UUIDv7). */
export async function listActions(
  kv: Deno.Kv,
  opts: { cursor?: string | null; limit?: number } = {},
): Promise<Page<ActionSummary>> {
  const limit = Math.min(Math.max(1, opts.limit ?? 20), MAX_ACTION_PAGE);
  const iter = kv.list<ScheduledAction>({ prefix: keys.actions() }, {
    reverse: true,
    limit,
    cursor: listCursor(opts.cursor),
  });
  const actions: ScheduledAction[] = [];
  for await (const e of iter) actions.push(e.value);
  return {
    items: await Promise.all(actions.map((a) => summary(kv, a))),
    cursor: actions.length === limit && iter.cursor ? iter.cursor : null,
  };
}

export interface TargetWithNotifications {
  target: Target;
  notifications: Notification[];
}

export interface ActionDetail extends Omit<ActionSummary, "stages"> {
  /** Each wave with its counters, health and gate. */
  stages: StageView[];
  targets: Page<TargetWithNotifications>;
  /** Only for an action written in the background (see PreparingView). */
  preparing?: PreparingView;
}

/** How far a large action's background write got, or what it came to; undefined for any other action. */
export async function getPreparingView(
  kv: Deno.Kv,
  action: ScheduledAction,
): Promise<PreparingView | undefined> {
  const progress = await preparingProgress(kv, action);
  if (progress) return progress;
  if (!action.preparing) return undefined;
  return {
    total: action.preparing.total,
    leftOut: action.preparing.leftOut ?? 0,
    writtenAt: action.preparing.writtenAt ?? null,
  };
}

const NO_COUNTS: ProgressCounts = {
  total: 0,
  applied: 0,
  skipped: 0,
  failed: 0,
  cancelled: 0,
};

/** The action's stages with their own counters and the gate's last reading. */
export async function getStageViews(
  kv: Deno.Kv,
  actionId: string,
  stages?: Stage[],
): Promise<StageView[]> {
  const [list, counts] = await Promise.all([
    stages ??
      getStageEntries(kv, actionId).then((es) => es.map((e) => e.value)),
    getStageCounts(kv, actionId),
  ]);
  // An action scheduled before stages had counters of their own: its one
  // stage counts what the action counts.
  const whole = list.length === 1 && !counts.has(list[0].index)
    ? await getProgressCounts(kv, actionId)
    : null;
  return list.map((s) =>
    stageView(s, counts.get(s.index) ?? whole ?? NO_COUNTS)
  );
}

function stageView(s: Stage, c: ProgressCounts): StageView {
  const g = s.gate ?? null;
  return {
    actionId: s.actionId,
    index: s.index,
    scheduledAt: s.scheduledAt,
    status: s.status,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    size: c.total,
    applied: c.applied,
    skipped: c.skipped,
    failed: c.failed,
    cancelled: c.cancelled,
    healthy: g?.healthy ?? 0,
    unhealthy: g?.unhealthy ?? 0,
    unknown: g?.unknown ?? 0,
    soakMinutes: s.soakMinutes ?? 0,
    soakUntil: s.soakUntil ?? null,
    gate: g && {
      verdict: g.verdict,
      at: g.at,
      failedPercent: g.failedPercent,
      unhealthyPercent: g.unhealthyPercent,
      resumedAt: g.resumedAt ?? null,
    },
  };
}

export async function withNotifications(kv: Deno.Kv, targets: Target[]) {
  return await Promise.all(targets.map(async (target) => ({
    target,
    notifications: (await readTargetRows(kv, target.id)).map((e) => e.value),
  })));
}

/**
 * One action with its stages, counters and a page of its targets: every
 * target in creation order, or only those with `outcome` (the same cursor
 * contract).
 */
export async function getActionDetail(
  kv: Deno.Kv,
  id: string,
  opts: {
    targetCursor?: string | null;
    targetLimit?: number;
    outcome?: TargetOutcome;
  } = {},
): Promise<ActionDetail> {
  const action = (await kv.get<ScheduledAction>(keys.action(id))).value;
  if (!action) {
    throw new NotFoundError(
      `scheduled action ${id} not found (an ended action is removed once ACTION_RETENTION_DAYS have passed)`,
    );
  }
  const paging = {
    cursor: listCursor(opts.targetCursor),
    limit: Math.min(Math.max(1, opts.targetLimit ?? 50), MAX_TARGET_PAGE),
  };
  const page = opts.outcome
    ? await ensureOutcomeIndex(kv, id).then(() =>
      listTargetIdsByOutcome(kv, id, opts.outcome!, paging)
    )
    : await listTargetIdsOfAction(kv, id, paging);
  const targets = (await getTargetEntries(kv, page.ids)).map((e) => e.value);
  const [base, preparing] = await Promise.all([
    summary(kv, action),
    getPreparingView(kv, action),
  ]);
  return {
    ...base,
    stages: await getStageViews(kv, id, base.stages),
    targets: {
      items: await withNotifications(kv, targets),
      cursor: page.cursor,
    },
    ...(preparing ? { preparing } : {}),
  };
}

export interface PendingAction {
  action: ScheduledAction;
  stage: Stage;
  target: Target;
}

/** The instance's pending (or running) target and its action, when that action is visible. */
export async function getPendingAction(
  kv: Deno.Kv,
  instanceId: string,
): Promise<PendingAction | null> {
  const lock = (await getPendingTargetLock(kv, instanceId)).value;
  if (!lock) return null;
  const [action, target] = await kv.getMany<[ScheduledAction, Target]>([
    keys.action(lock.actionId),
    keys.target(lock.targetId),
  ]);
  // A large action still being written holds the instance too (status
  // `preparing`); only the admin's views read this.
  if (!action.value || !target.value) return null;
  const stage =
    (await kv.get<Stage>(keys.stage(lock.actionId, target.value.stageIndex)))
      .value;
  if (!stage) return null;
  return { action: action.value, stage, target: target.value };
}
