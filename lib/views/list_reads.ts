/**
 * What the admin lists read, each in one call: users, the catalog with its
 * usage, the instance table, the schedule form's choices.
 */
import { newestTagFirst } from "./instance_reads.ts";
import { keys } from "../kv/keys.ts";
import {
  countInstancesOfOwner,
  countRunningInstancesByTag,
  getInstances,
  type InstancePage,
  searchInstances,
} from "../kv/instances.ts";
import {
  effectiveRole,
  getUsers,
  listUsersPage,
  MAX_USER_PAGE_SIZE,
  userLabel,
} from "../kv/users.ts";
import { listCatalog } from "../kv/catalog.ts";
import {
  countListedEach,
  instanceListReady,
  rangesOf,
} from "../kv/instance_list.ts";
import { getManyById, getManyChunked } from "../kv/batched_reads.ts";
import type { PendingTargetLock } from "../kv/actions.ts";
import { isId } from "../ids.ts";
import {
  describeMatch,
  type InstanceChoice,
  type MatchFilter,
  type MatchSummary,
  type PickerRow,
} from "./form_model.ts";
import { actionLabel } from "@/lib/action_words.ts";
import type {
  CatalogEntry,
  InstanceStatus,
  Role,
  ScheduledAction,
  Stage,
  Target,
  User,
} from "../types.ts";
export const INSTANCE_COUNT_CAP = 1_000;

export interface UserRow {
  user: User;
  role: Role;
  /** Exact once the instance list is built; until then counted up to INSTANCE_COUNT_CAP + 1. */
  instances: number;
  /** More than INSTANCE_COUNT_CAP, not counted further (only before the list is built). */
  instancesCapped: boolean;
}

/** The admin's users list: a page of users in email order, with their role and how many instances they own. */
export async function listUserRows(
  kv: Deno.Kv,
  opts: { cursor: string | undefined; adminEmails: string[] },
): Promise<{ rows: UserRow[]; cursor: string | null }> {
  const [page, exact] = await Promise.all([
    listUsersPage(kv, { cursor: opts.cursor }),
    instanceListReady(kv),
  ]);
  // Each user's count from the list's counts, read together; before the
  // list is built, counted up to the cap.
  const counts = exact
    ? await countListedEach(
      kv,
      page.items.map((u) => rangesOf({ ownerId: u.id })),
    )
    : await Promise.all(
      page.items.map((u) =>
        countInstancesOfOwner(kv, u.id, INSTANCE_COUNT_CAP)
      ),
    );
  const rows = page.items.map((user, i) => ({
    user,
    role: effectiveRole(user, opts.adminEmails),
    instances: counts[i],
    instancesCapped: !exact && counts[i] > INSTANCE_COUNT_CAP,
  }));
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

/**
 * Each instance's pending action, when it has one: the lock, its action,
 * and the stage of that instance's own target (a rollout's waves have
 * different times).
 */
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
  const lockList = [...held.values()];
  const [actions, targets] = await Promise.all([
    getManyById<ScheduledAction>(
      kv,
      lockList.map((l) => l.actionId),
      keys.action,
    ),
    getManyById<Target>(kv, lockList.map((l) => l.targetId), keys.target),
  ]);
  const stageOf = (l: PendingTargetLock) =>
    keys.stage(l.actionId, targets.get(l.targetId)?.value?.stageIndex ?? 0);
  const stageEntries = await getManyChunked<Stage>(kv, lockList.map(stageOf));
  const stages = new Map(
    lockList.map((l, i) => [l.targetId, stageEntries[i].value]),
  );
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
      scheduledAt: stages.get(lock.targetId)?.scheduledAt ?? null,
      paused: action.status === "paused",
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
