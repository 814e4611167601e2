/**
 * The dry run of a move (`…/:id/reschedule/preview`): when the owners not
 * yet warned get their notice at the new time, when the reminders go out,
 * and the message owners already warned get about the move — rendered for
 * one of them by the templates the sweep uses. It reads and never writes.
 */
import { BadRequestError, ConflictError, NotFoundError } from "../errors.ts";
import { refuseWhilePreparing } from "../preparing_refusal.ts";
import type { Issue } from "../errors.ts";
import { keys } from "../kv/keys.ts";
import {
  getTargetEntries,
  isActionVisible,
  listTargetIdsOfAction,
} from "../kv/actions.ts";
import { getUser, userLabel } from "../kv/users.ts";
import { getInstance } from "../kv/instances.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import { renderNoticeEmail } from "../channels/email_render.ts";
import { pushTexts } from "../channels/push_texts.ts";
import { HOUR_MS, noticeDueAt } from "../due_times.ts";
import { newRow } from "../notices/rows.ts";
import { isMovable } from "../types.ts";
import type { ScheduledAction, Stage } from "../types.ts";
import type { RescheduleDeps } from "../scheduler/reschedule.ts";
import { leadIssues, type RescheduleInput } from "../scheduler/schemas.ts";
import { scheduledAtIssues } from "../scheduler/schedule_checks.ts";
import type { MovePreview } from "./preview_model.ts";

export type { MovePreview };

export async function previewMove(
  deps: RescheduleDeps,
  actionId: string,
  input: RescheduleInput,
  publicUrl: string,
): Promise<MovePreview> {
  const { kv } = deps;
  const [action, stage] = await kv.getMany<[ScheduledAction, Stage]>([
    keys.action(actionId),
    keys.stage(actionId, 0),
  ]);
  if (!isActionVisible(action) || !stage.value) {
    throw new NotFoundError(`action ${actionId} not found`);
  }
  const a = action.value;
  const s = stage.value;
  refuseWhilePreparing(a, "it cannot be moved yet");
  if (!isMovable(a, s)) {
    throw new ConflictError(`action ${actionId} can no longer be moved`);
  }
  const now = deps.now();
  const lead = input.noticeLeadHours ?? a.noticeLeadHours;
  // Every problem at once, as the move itself would refuse them.
  const issues: Issue[] = scheduledAtIssues(
    input.scheduledAt,
    now,
    deps.config.scheduleMinAheadSeconds,
  );
  issues.push(...leadIssues(a, lead, input.noticeLeadHours !== undefined));
  if (issues.length) {
    throw new BadRequestError(
      issues.map((i) => `${i.path}: ${i.message}`).join("; "),
      issues,
    );
  }
  const to = new Date(Date.parse(input.scheduledAt)).toISOString();
  const moved: Stage = { ...s, scheduledAt: to };
  const next: ScheduledAction = { ...a, noticeLeadHours: lead };
  const noticeAt = noticeDueAt(next, moved);
  const tells = a.notify && a.noticeChannels.length > 0;
  return {
    from: s.scheduledAt,
    to,
    notice: tells
      ? {
        at: new Date(Math.max(now, noticeAt)).toISOString(),
        atOnce: noticeAt <= now,
        leadHours: lead,
      }
      : null,
    reminders: tells && a.noticeChannels.some((c) => c !== "webapp")
      ? (a.reminderLeadHours ?? [])
        .map((h) => ({ leadHours: h, ms: Date.parse(to) - h * HOUR_MS }))
        .filter((r) => r.ms > now)
        .map((r) => ({
          leadHours: r.leadHours,
          at: new Date(r.ms).toISOString(),
        }))
      : [],
    sample: tells ? await movedSample(deps, next, s, moved, publicUrl) : null,
  };
}

/** The move's message to the first target's owner, as the sweep would render it. */
async function movedSample(
  deps: RescheduleDeps,
  action: ScheduledAction,
  from: Stage,
  to: Stage,
  publicUrl: string,
): Promise<MovePreview["sample"]> {
  const { kv } = deps;
  const { ids } = await listTargetIdsOfAction(kv, action.id, { limit: 1 });
  const [entry] = await getTargetEntries(kv, ids);
  const target = entry?.value;
  if (!target) return null;
  const [user, instance] = await Promise.all([
    getUser(kv, target.userId),
    getInstance(kv, target.instanceId),
  ]);
  if (!user) return null;
  const version = async (tag: string) =>
    action.actionType === "version_change"
      ? (await getCatalogEntry(kv, tag))?.openclawVersion ?? null
      : null;
  const item = (channel: "email" | "mobile_push") => ({
    notification: {
      ...newRow(
        { ...target, targetId: target.id },
        "rescheduled",
        channel,
        deps.now(),
        deps.now(),
      ),
      movedFrom: from.scheduledAt,
    },
    user,
    instance,
    action,
    stage: to,
    target,
    targetOpenclawVersion: null as string | null,
    sourceOpenclawVersion: null as string | null,
  });
  const withVersions = async (channel: "email" | "mobile_push") => ({
    ...item(channel),
    targetOpenclawVersion: await version(target.targetImageTag),
    sourceOpenclawVersion: await version(target.sourceImageTag),
  });
  const email = action.noticeChannels.includes("email")
    ? renderNoticeEmail(await withVersions("email"), publicUrl)
    : null;
  return {
    owner: userLabel(user, user.id),
    instance: instance?.name ?? target.instanceId,
    email: email ? { subject: email.subject, text: email.text } : null,
    push: action.noticeChannels.includes("mobile_push")
      ? pushTexts(await withVersions("mobile_push"))
      : null,
  };
}
