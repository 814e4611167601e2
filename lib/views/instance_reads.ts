/**
 * What an instance's page and the workspace read, each in one call: the
 * instance with its history and pending change, the owner's own instances.
 */
import {
  getPendingAction,
  type PendingAction,
  type TargetWithNotifications,
  withNotifications,
} from "./action_reads.ts";
import { keys } from "../kv/keys.ts";
import { getTargetEntries, listTargetIdsOfInstance } from "../kv/actions.ts";
import {
  getInstance,
  type InstancePage,
  searchInstances,
} from "../kv/instances.ts";
import { getUser } from "../kv/users.ts";
import { getCatalogEntry, listCatalog } from "../kv/catalog.ts";
import { type RecentChanges, recentChanges } from "../kv/audit.ts";
import { type BannerStatus, getBannerStatus } from "../notices/banner.ts";
import { NotFoundError } from "../errors.ts";
import type {
  CatalogEntry,
  Instance,
  ScheduledAction,
  User,
} from "../types.ts";
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

export function newestTagFirst(entries: CatalogEntry[]): CatalogEntry[] {
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
