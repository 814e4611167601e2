/** What the admin pages and JSON API read: actions, one action in detail, an instance's schedule. */
import { keys } from "../kv/keys.ts";
import {
  getActionCounters,
  getPendingTargetLock,
  getStageEntries,
  getTargetEntries,
  listTargetIdsOfAction,
  listTargetIdsOfInstance,
} from "../kv/actions.ts";
import { getInstance } from "../kv/instances.ts";
import { listCursor } from "../kv/cursor.ts";
import { readTargetRows } from "../notices/rows.ts";
import { NotFoundError } from "../errors.ts";
import type {
  ActionCounters,
  Instance,
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";

export interface ActionSummary {
  action: ScheduledAction;
  counters: ActionCounters;
  stages: Stage[];
}

/** The most actions, and targets of one action, a page may hold. */
export const MAX_ACTION_PAGE = 200;
export const MAX_TARGET_PAGE = 500;

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last one. */
  cursor: string | null;
}

async function summary(
  kv: Deno.Kv,
  action: ScheduledAction,
): Promise<ActionSummary> {
  const [counters, stages] = await Promise.all([
    getActionCounters(kv, action.id),
    getStageEntries(kv, action.id),
  ]);
  return { action, counters, stages: stages.map((s) => s.value) };
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

export interface ActionDetail extends ActionSummary {
  targets: Page<TargetWithNotifications>;
}

async function withNotifications(kv: Deno.Kv, targets: Target[]) {
  return await Promise.all(targets.map(async (target) => ({
    target,
    notifications: (await readTargetRows(kv, target.id)).map((e) => e.value),
  })));
}

export async function getActionDetail(
  kv: Deno.Kv,
  id: string,
  opts: { targetCursor?: string | null; targetLimit?: number } = {},
): Promise<ActionDetail> {
  const action = (await kv.get<ScheduledAction>(keys.action(id))).value;
  if (!action) throw new NotFoundError(`scheduled action ${id} not found`);
  const page = await listTargetIdsOfAction(kv, id, {
    cursor: listCursor(opts.targetCursor),
    limit: Math.min(Math.max(1, opts.targetLimit ?? 50), MAX_TARGET_PAGE),
  });
  const targets = (await getTargetEntries(kv, page.ids)).map((e) => e.value);
  return {
    ...(await summary(kv, action)),
    targets: {
      items: await withNotifications(kv, targets),
      cursor: page.cursor,
    },
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
  if (!action.value || !target.value) return null;
  const stage =
    (await kv.get<Stage>(keys.stage(lock.actionId, target.value.stageIndex)))
      .value;
  if (!stage) return null;
  return { action: action.value, stage, target: target.value };
}

export interface InstanceHistoryItem extends TargetWithNotifications {
  action: ScheduledAction;
}

export interface InstanceDetail {
  instance: Instance;
  pendingAction: PendingAction | null;
  /** Newest first: every visible action that targeted the instance, with its notifications. */
  history: InstanceHistoryItem[];
}

export async function getInstanceDetail(
  kv: Deno.Kv,
  instanceId: string,
): Promise<InstanceDetail> {
  const instance = await getInstance(kv, instanceId);
  if (!instance) throw new NotFoundError(`instance ${instanceId} not found`);
  const targets =
    (await getTargetEntries(kv, await listTargetIdsOfInstance(kv, instanceId)))
      .map((e) => e.value);
  const history: InstanceHistoryItem[] = [];
  for (const item of await withNotifications(kv, targets)) {
    const action =
      (await kv.get<ScheduledAction>(keys.action(item.target.actionId))).value;
    if (action) history.push({ action, ...item });
  }
  return {
    instance,
    pendingAction: await getPendingAction(kv, instanceId),
    history,
  };
}
