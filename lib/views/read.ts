/**
 * What the pages and the JSON API read, each page in one call: actions, one
 * action in detail, an instance's schedule, the instance lists, users,
 * the catalog, the schedule form's choices.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import {
  getActionCounters,
  getPendingTargetLock,
  getStageEntries,
  getTargetEntries,
  listTargetIdsOfAction,
  listTargetIdsOfInstance,
} from "../kv/actions.ts";
import {
  countInstancesOfOwner,
  countRunningInstancesByTag,
  getInstance,
  getInstances,
  type InstancePage,
  searchInstances,
} from "../kv/instances.ts";
import {
  effectiveRole,
  getUser,
  getUsers,
  listUsersPage,
  MAX_USER_PAGE_SIZE,
  userLabel,
} from "../kv/users.ts";
import { getCatalogEntry, listCatalog } from "../kv/catalog.ts";
import { type RecentChanges, recentChanges } from "../kv/audit.ts";
import { getManyById, getManyChunked } from "../kv/read.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import { listCursor } from "../kv/cursor.ts";
import { readTargetRows } from "../notices/rows.ts";
import { type BannerStatus, getBannerStatus } from "../notices/banner.ts";
import { NotFoundError } from "../errors.ts";
import { isId } from "../ids.ts";
import {
  describeMatch,
  type InstanceChoice,
  type MatchFilter,
  type MatchSummary,
  type PickerRow,
} from "./form_model.ts";
import { actionLabel } from "@/components/ActionLabel.tsx";
import type {
  ActionCounters,
  CatalogEntry,
  Instance,
  InstanceStatus,
  Notification,
  Role,
  ScheduledAction,
  Stage,
  Target,
  User,
} from "../types.ts";

export interface ActionSummary {
  action: ScheduledAction;
  counters: ActionCounters;
  stages: Stage[];
}

/** The most actions, and targets of one action, a page may hold. */
export const MAX_ACTION_PAGE = 200;
export const MAX_TARGET_PAGE = 500;

/** `GET /api/admin/scheduled-actions`: a page of actions. */
export const PageQuerySchema = z.object({
  cursor: z.string().max(1000).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ACTION_PAGE).optional(),
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
  if (!action) {
    throw new NotFoundError(
      `scheduled action ${id} not found (an ended action is removed once ACTION_RETENTION_DAYS have passed)`,
    );
  }
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

/** The admin's instance page: the instance's schedule, its owner, the catalog (newest tag first), its latest changes. */
export async function getInstancePage(
  kv: Deno.Kv,
  instanceId: string,
): Promise<{
  detail: InstanceDetail;
  owner: User | null;
  catalog: CatalogEntry[];
  audit: RecentChanges;
}> {
  const detail = await getInstanceDetail(kv, instanceId);
  const [owner, catalog, audit] = await Promise.all([
    getUser(kv, detail.instance.ownerId),
    listCatalog(kv),
    recentChanges(kv, { type: "instance", id: detail.instance.id }),
  ]);
  return { detail, owner, catalog: newestTagFirst(catalog), audit };
}

function newestTagFirst(entries: CatalogEntry[]): CatalogEntry[] {
  return entries.sort((a, b) => b.imageTag.localeCompare(a.imageTag));
}

/** The owner's workspace page: their instance, its version, what its banner says. Someone else's instance is indistinguishable from a missing one. */
export async function getWorkspace(
  kv: Deno.Kv,
  instanceId: string,
  ownerId: string,
  now: number,
): Promise<
  { instance: Instance; openclawVersion: string | null; status: BannerStatus }
> {
  const instance = await getInstance(kv, instanceId);
  if (!instance || instance.ownerId !== ownerId) {
    throw new NotFoundError("instance not found");
  }
  const [entry, status] = await Promise.all([
    getCatalogEntry(kv, instance.imageTag),
    getBannerStatus(kv, instance.id, now),
  ]);
  return {
    instance,
    openclawVersion: entry?.openclawVersion ?? null,
    status,
  };
}

/** The owner's list: a page of their instances, what each one's banner says when it says anything, the OpenClaw version of each tag. */
export async function getOwnInstances(
  kv: Deno.Kv,
  ownerId: string,
  page: number,
  now: number,
): Promise<{
  result: InstancePage;
  coming: Record<string, BannerStatus>;
  versions: Record<string, string>;
}> {
  const [result, catalog] = await Promise.all([
    searchInstances(kv, { ownerId, page, pageSize: 50 }),
    listCatalog(kv),
  ]);
  const statuses = await Promise.all(
    result.items.map((i) => getBannerStatus(kv, i.id, now)),
  );
  return {
    result,
    coming: Object.fromEntries(
      result.items.map((i, n) => [i.id, statuses[n]] as const).filter((
        [, b],
      ) => b.scheduledAction || b.cancelledAction),
    ),
    versions: Object.fromEntries(
      catalog.map((c) => [c.imageTag, c.openclawVersion]),
    ),
  };
}

/** An owner of more instances than this shows as "1,000+" in the users list. */
export const INSTANCE_COUNT_CAP = 1_000;

export interface UserRow {
  user: User;
  role: Role;
  /** Counted up to INSTANCE_COUNT_CAP + 1. */
  instances: number;
}

/** The admin's users list: a page of users in email order, with their role and how many instances they own. */
export async function listUserRows(
  kv: Deno.Kv,
  opts: { cursor: string | undefined; adminEmails: string[] },
): Promise<{ rows: UserRow[]; cursor: string | null }> {
  const page = await listUsersPage(kv, { cursor: opts.cursor });
  const rows = await Promise.all(page.items.map(async (user) => ({
    user,
    role: effectiveRole(user, opts.adminEmails),
    instances: await countInstancesOfOwner(kv, user.id, INSTANCE_COUNT_CAP),
  })));
  return { rows, cursor: page.cursor };
}

/** The catalog page: every tag, newest first, and how many running instances are on it. */
export async function listCatalogUsage(
  kv: Deno.Kv,
): Promise<{ entry: CatalogEntry; running: number }[]> {
  const catalog = newestTagFirst(await listCatalog(kv));
  return await Promise.all(
    catalog.map(async (entry) => ({
      entry,
      running: await countRunningInstancesByTag(kv, entry.imageTag),
    })),
  );
}

export interface InstanceListFilter {
  q: string;
  tag: string;
  owner: string;
  status: "" | InstanceStatus;
}

/**
 * The admin's instance table: a page of the instances the filter lets through
 * (50, so "select all on this page" picks 50), each with its owner and pending
 * action; the tags and owners the filters offer (a page of users, and the one
 * chosen).
 */
export async function getInstanceTable(
  kv: Deno.Kv,
  filter: InstanceListFilter,
  page: number,
): Promise<{
  result: InstancePage;
  rows: PickerRow[];
  tags: string[];
  owners: { id: string; label: string }[];
}> {
  const [result, catalog, someUsers] = await Promise.all([
    searchInstances(kv, {
      query: filter.q,
      tag: filter.tag,
      ownerId: filter.owner || undefined,
      status: filter.status,
      page,
      pageSize: 50,
    }),
    listCatalog(kv),
    listUsersPage(kv, { limit: MAX_USER_PAGE_SIZE }),
  ]);
  const users = await getUsers(kv, [
    ...result.items.map((i) => i.ownerId),
    ...(filter.owner ? [filter.owner] : []),
  ]);
  for (const u of someUsers.items) users.set(u.id, u);
  const label = Object.fromEntries(
    [...users.values()].map((u) => [u.id, userLabel(u, u.id)]),
  );
  const owners = [
    ...someUsers.items.map((u) => u.id),
    ...(filter.owner && !someUsers.items.some((u) => u.id === filter.owner) &&
        label[filter.owner]
      ? [filter.owner]
      : []),
  ];
  const versions = new Map(
    catalog.map((c) => [c.imageTag, c.openclawVersion]),
  );
  const pending = await pendingOf(
    kv,
    result.items.map((i) => i.id),
    versions,
  );
  return {
    result,
    rows: result.items.map((i) => ({
      id: i.id,
      name: i.name,
      owner: label[i.ownerId] ?? `missing user ${i.ownerId}`,
      imageTag: i.imageTag,
      openclawVersion: versions.get(i.imageTag) ?? null,
      pinnedImageTag: i.pinnedImageTag,
      status: i.status,
      pending: pending(i.id),
    })),
    tags: catalog.map((c) => c.imageTag).sort().reverse(),
    owners: owners.map((id) => ({ id, label: label[id] }))
      .sort((a, b) => a.label.localeCompare(b.label)),
  };
}

/** Each instance's pending action, when it has one: the lock, its action and stage. */
async function pendingOf(
  kv: Deno.Kv,
  ids: string[],
  versions: Map<string, string>,
) {
  const locks = await getManyChunked<PendingTargetLock>(
    kv,
    ids.map((id) => keys.instancePendingTarget(id)),
  );
  const held = new Map(
    ids.flatMap((id, i) => locks[i].value ? [[id, locks[i].value!]] : []),
  );
  const actionIds = [...held.values()].map((l) => l.actionId);
  const [actions, stages] = await Promise.all([
    getManyById<ScheduledAction>(kv, actionIds, keys.action),
    getManyById<Stage>(kv, actionIds, (id) => keys.stage(id, 0)),
  ]);
  return (id: string): PickerRow["pending"] => {
    const lock = held.get(id);
    const action = lock && actions.get(lock.actionId)?.value;
    if (!lock || !action) return null;
    return {
      actionId: action.id,
      label: actionLabel(
        action,
        action.imageTag ? versions.get(action.imageTag) : null,
      ),
      scheduledAt: stages.get(action.id)?.value?.scheduledAt ?? null,
    };
  };
}

/** What the schedule form lists: the catalog (newest tag first), the chosen instances, the "all matching" selection. */
export async function getScheduleChoices(
  kv: Deno.Kv,
  instanceIds: string[],
  match: MatchFilter,
): Promise<{
  catalog: CatalogEntry[];
  chosen: InstanceChoice[];
  match: MatchSummary | null;
}> {
  const [catalog, chosen, summary] = await Promise.all([
    listCatalog(kv),
    chosenOf(kv, instanceIds),
    matchOf(kv, match),
  ]);
  return { catalog: newestTagFirst(catalog), chosen, match: summary };
}

/** The chosen instances by name (unknown ids too, so the review can say so). */
async function chosenOf(
  kv: Deno.Kv,
  ids: string[],
): Promise<InstanceChoice[]> {
  const found = await getInstances(kv, ids);
  const users = await getUsers(kv, [...found.values()].map((i) => i.ownerId));
  return ids.map((id) => {
    const i = found.get(id);
    return i
      ? {
        id,
        name: i.name,
        owner: userLabel(users.get(i.ownerId), i.ownerId),
        imageTag: i.imageTag,
        pinnedImageTag: i.pinnedImageTag,
        status: i.status,
      }
      : {
        id,
        name: id,
        owner: "no such instance",
        imageTag: "—",
        pinnedImageTag: null,
        status: "unknown",
      };
  });
}

/** "All N matching": how many, described, and the first few by name. */
async function matchOf(
  kv: Deno.Kv,
  m: MatchFilter,
): Promise<MatchSummary | null> {
  if (!m.q && !m.tag && !m.owner && !m.status) return null;
  const owner = m.owner && isId(m.owner)
    ? (await getUsers(kv, [m.owner])).get(m.owner)
    : undefined;
  const found = m.owner && !isId(m.owner)
    ? { total: 0, items: [] }
    : await searchInstances(kv, {
      query: m.q,
      tag: m.tag,
      ownerId: m.owner || undefined,
      status: m.status === "running" || m.status === "destroyed"
        ? m.status
        : "",
      pageSize: 8,
    });
  return {
    count: found.total,
    description: describeMatch(m, owner?.name ?? undefined),
    names: found.items.map((i) => i.name),
  };
}
