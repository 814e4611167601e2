/** NoticeItems for channel tests: random ids, every field a template may read. */
import { newId } from "@/lib/ids.ts";
import { keys } from "@/lib/kv/keys.ts";
import { newGroup, putGroup } from "@/lib/notices/groups.ts";
import { makeAction, makeStage, makeTarget } from "./records.ts";
import type { NoticeItem } from "@/lib/channels/types.ts";
import type {
  ActionType,
  Instance,
  NoticeGroup,
  NotificationKind,
  ScheduledAction,
  User,
} from "@/lib/types.ts";

export interface ItemOptions {
  actionType?: ActionType;
  kind?: NotificationKind;
  user?: Partial<User>;
  instance?: Partial<Instance> | null;
  action?: Partial<ScheduledAction>;
  scheduledAt?: string;
  targetImageTag?: string;
  openclawVersion?: string | null;
}

export function noticeItem(o: ItemOptions = {}): NoticeItem {
  const at = "2026-03-02T10:00:00.000Z";
  const actionType = o.actionType ?? "scheduled_restart";
  const userId = newId();
  const instanceId = `claw-${newId().slice(-8)}`;
  const actionId = newId();
  const targetId = newId();
  const sourceTag = "2026.02.1";
  const targetTag = actionType === "version_change"
    ? o.targetImageTag ?? "2026.03.1"
    : sourceTag;
  const user: User = {
    id: userId,
    email: `user-${userId.slice(-8)}@example.com`,
    name: "Ada Lovelace",
    timeZone: null,
    role: "user",
    pushTokens: [],
    createdAt: at,
    updatedAt: at,
    ...o.user,
  };
  const instance: Instance | null = o.instance === null ? null : {
    id: instanceId,
    name: "Research bot",
    ownerId: userId,
    imageTag: sourceTag,
    pinnedImageTag: null,
    status: "running",
    lastRestartAt: null,
    createdAt: at,
    updatedAt: at,
    ...o.instance,
  };
  const action = makeAction({
    id: actionId,
    actionType,
    imageTag: actionType === "version_change" ? targetTag : null,
    ...o.action,
  }, Date.parse(at));
  const scheduledAt = o.scheduledAt ?? "2026-03-05T14:30:00.000Z";
  return {
    notification: {
      id: newId(),
      actionId,
      stageIndex: 0,
      targetId,
      instanceId: instance?.id ?? instanceId,
      userId,
      kind: o.kind ?? "notice",
      channel: "email",
      status: "sending",
      dueAt: Date.parse(scheduledAt) - 24 * 3_600_000,
      attempts: 1,
      groupId: null,
      claimId: null,
      claimedAt: at,
      sentAt: null,
      error: null,
      createdAt: at,
      updatedAt: at,
    },
    user,
    instance,
    action,
    stage: makeStage(action, scheduledAt),
    target: makeTarget(action, {
      instanceId: instance?.id ?? instanceId,
      userId,
      sourceImageTag: sourceTag,
    }, { id: targetId, targetImageTag: targetTag }),
    targetOpenclawVersion: actionType === "version_change"
      ? (o.openclawVersion === undefined ? "1.8.2" : o.openclawVersion)
      : null,
  };
}

/** "Now" for route tests: before the fixtures' action time (2026-03-05 14:30 UTC). */
export const ITEM_NOW = Date.parse("2026-03-04T12:00:00.000Z");

/**
 * Stores an item's row and parents the way a sweep that claimed it leaves
 * them: the row `sending` in a sealed group whose lease this claim holds.
 */
export async function storeHeldItem(
  kv: Deno.Kv,
  item: NoticeItem,
  o: { now?: number; leaseMs?: number } = {},
): Promise<{ claimId: string; groupId: string }> {
  const now = o.now ?? ITEM_NOW;
  const claimId = newId();
  const groupId = newId();
  item.notification = {
    ...item.notification,
    status: "sending",
    groupId,
    claimId,
  };
  const group: NoticeGroup = {
    ...newGroup(
      groupId,
      item.notification.channel,
      claimId,
      now + (o.leaseMs ?? 60_000),
      now,
    ),
    state: "sealed",
    sends: 1,
    members: [item.notification.id],
  };
  const op = kv.atomic()
    .set(keys.user(item.user.id), item.user)
    .set(keys.action(item.action.id), item.action)
    .set(keys.stage(item.action.id, 0), item.stage)
    .set(keys.target(item.target.id), item.target)
    .set(keys.notification(item.notification.id), item.notification);
  if (item.instance) op.set(keys.instance(item.instance.id), item.instance);
  const res = await putGroup(op, null, group).commit();
  if (!res.ok) throw new Error("storing the held item failed");
  return { claimId, groupId };
}
