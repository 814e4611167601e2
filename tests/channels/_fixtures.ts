/** NoticeItems for channel tests: random ids, every field a template may read. */
import { newId } from "../../lib/ids.ts";
import { makeAction, makeStage, makeTarget } from "../helpers/records.ts";
import type { NoticeItem } from "../../lib/channels/types.ts";
import type {
  ActionType,
  Instance,
  NotificationKind,
  ScheduledAction,
  User,
} from "../../lib/types.ts";

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
      batchId: null,
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
