/**
 * The workspace banner (`GET /api/instances/:id/status`): the instance's
 * pending target whose action is still on, whose webapp notice row exists
 * (so notify off, or webapp left out, means no banner) and whose lead window
 * has opened. While the rollout is paused the banner of an owner already
 * warned stays, on hold, with no time to count down to. A fixed handful of KV reads, however many actions and rows exist:
 * the instance's pending-target lock leads straight to the one candidate.
 */
import { keys } from "../kv/keys.ts";
import { isActionVisible, type PendingTargetLock } from "../kv/actions.ts";
import { isActionOpen, isStageLive } from "../types.ts";
import { noticeDueAt } from "../due_times.ts";
import type { CancelledBanner } from "./rows.ts";
import type {
  BannerAction,
  BannerStatus,
  CancelledBannerAction,
  CatalogEntry,
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";

export type { BannerStatus, CancelledBannerAction };

interface Parents {
  action: ScheduledAction;
  stage: Stage;
  target: Target;
}

function bannerAction(
  p: Parents,
  catalog: CatalogEntry | null,
): BannerAction {
  const isVersionChange = p.action.actionType === "version_change";
  return {
    scheduledActionId: p.action.id,
    actionType: p.action.actionType,
    scheduledAt: p.stage.scheduledAt,
    targetImageTag: isVersionChange ? p.target.targetImageTag : null,
    targetOpenclawVersion: isVersionChange
      ? catalog?.openclawVersion ?? null
      : null,
  };
}

export async function getBannerStatus(
  kv: Deno.Kv,
  instanceId: string,
  now: number,
): Promise<BannerStatus> {
  const [lock, cancelled] = await kv.getMany<
    [PendingTargetLock, CancelledBanner]
  >([keys.instancePendingTarget(instanceId), keys.cancelledBanner(instanceId)]);
  const l = lock.value;
  const c = cancelled.value;

  const [action, target, webapp, webappHold, cAction, cTarget] = await kv
    .getMany<
      [ScheduledAction, Target, string, string, ScheduledAction, Target]
    >([
      keys.action(l?.actionId ?? "-"),
      keys.target(l?.targetId ?? "-"),
      keys.notificationByTarget(l?.targetId ?? "-", "notice", "webapp"),
      keys.notificationByTarget(l?.targetId ?? "-", "on_hold", "webapp"),
      keys.action(c?.actionId ?? "-"),
      keys.target(c?.targetId ?? "-"),
    ]);
  const paused = action.value?.status === "paused";
  const live = isActionVisible(action) &&
    (isActionOpen(action.value) || paused) &&
    target.value?.status === "pending" &&
    target.value.instanceId === instanceId && webapp.value !== null;

  const [stage, row, holdRow, catalog, cStage, cCatalog] = await kv.getMany<
    [Stage, Notification, Notification, CatalogEntry, Stage, CatalogEntry]
  >([
    keys.stage(action.value?.id ?? "-", target.value?.stageIndex ?? 0),
    keys.notification(live ? webapp.value! : "-"),
    keys.notification(live && paused ? webappHold.value ?? "-" : "-"),
    keys.catalogEntry(target.value?.targetImageTag ?? "-"),
    keys.stage(cAction.value?.id ?? "-", c?.stageIndex ?? 0),
    keys.catalogEntry(cTarget.value?.targetImageTag ?? "-"),
  ]);

  // Paused: only an owner already warned has a time to take back (the
  // banner showed it, or an on-hold notice is on its way to the banner).
  const held = paused &&
    (row.value?.status === "sent" ||
      (holdRow.value !== null && holdRow.value.status !== "failed"));
  let scheduledAction: BannerAction | null = null;
  if (
    live && stage.value &&
    isStageLive(stage.value) &&
    (held || (
      !paused && row.value !== null && row.value.status !== "failed" &&
      // Once shown, it stays (with the new time) when the action moves later.
      (row.value.status === "sent" ||
        now >= noticeDueAt(action.value!, stage.value))
    ))
  ) {
    scheduledAction = bannerAction(
      { action: action.value!, stage: stage.value, target: target.value! },
      catalog.value,
    );
    if (paused) scheduledAction.onHold = true;
  }

  const status: BannerStatus = { scheduledAction };
  if (
    c && cAction.value && cStage.value && cTarget.value &&
    now < Date.parse(cStage.value.scheduledAt) &&
    cAction.value.id !== scheduledAction?.scheduledActionId
  ) {
    status.cancelledAction = {
      ...bannerAction(
        { action: cAction.value, stage: cStage.value, target: cTarget.value },
        cCatalog.value,
      ),
      cancelledAt: c.cancelledAt,
    };
  }
  return status;
}
