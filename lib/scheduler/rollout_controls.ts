/**
 * An admin's answers to a paused (or running) rollout: resume it at a new
 * time, abort what is left of it, or roll back the waves it applied. Each is
 * audited with the admin's optional reason.
 *
 * A resume is a move of the waves not started yet (reschedule.ts's
 * protocol): the action and those stages change in one atomic operation,
 * with the move's marker naming the times owners were told, so a warning
 * claimed before it loses its claim and owners already warned get a
 * `rescheduled` notice; the held warnings take their new due times.
 */
import { keys } from "../kv/keys.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import {
  allTargetIdsOfAction,
  getStageEntries,
  getTargetEntries,
  isActionVisible,
} from "../kv/actions.ts";
import { addAuditWrite, type AuditActor, newAuditEntry } from "../kv/audit.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors.ts";
import { refuseWhilePreparing } from "../preparing_refusal.ts";
import { scheduledAtIssues } from "./schedule_checks.ts";
import { putStage } from "../apply/stage_status.ts";
import {
  finishReschedule,
  type ReschedulingMarker,
  shiftStage,
  toldTimes,
} from "./reschedule.ts";
import { cancelActionTelling, type CancelDeps } from "./cancel_targets.ts";
import { scheduleAction, type ScheduleResult } from "./schedule.ts";
import type { ScheduleDeps } from "./schedule_checks.ts";
import { recordAudit } from "../kv/audit.ts";
import { getCatalogEntry } from "../kv/catalog.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";
import { nameAndEmail } from "../kv/users.ts";
import { HOUR_MS } from "../due_times.ts";
import type { ScheduledAction, Stage, User } from "../types.ts";
import { z } from "zod";
import { textField } from "../text.ts";

const reason = textField({ max: 256 }).nullish().transform((v) => v || null);

/** `POST …/:id/resume`. */
export const ResumeInputSchema = z.strictObject({
  scheduledAt: z.iso.datetime({
    offset: true,
    error: "must be an ISO 8601 date and time, e.g. 2030-01-31T09:00:00Z",
  }).optional(),
  reason,
});
export type ResumeInput = z.output<typeof ResumeInputSchema>;

/** `POST …/:id/abort` and `…/:id/rollback`. */
export const RolloutReasonSchema = z.strictObject({ reason });

export interface ResumeReport {
  action: ScheduledAction;
  /** The waves not started yet, at their new times. */
  stages: Stage[];
  from: string;
  to: string;
  moved: number;
  inFlight: number;
}

/**
 * The earliest time a resume may take: every owner of the next wave still
 * gets their notice lead (when they are told), and never sooner than a
 * schedule may be; on a whole minute, as the apply tick runs.
 */
export function earliestResume(
  action: Pick<ScheduledAction, "notify" | "noticeLeadHours">,
  now: number,
  minAheadSeconds: number,
): number {
  const lead = action.notify ? action.noticeLeadHours * HOUR_MS : 0;
  const at = now + Math.max(lead, minAheadSeconds * 1000, 60_000);
  return Math.ceil(at / 60_000) * 60_000;
}

/**
 * Resumes a paused rollout: the waves not started yet move so the next one
 * starts at `scheduledAt` (default: `earliestResume`), keeping the spacing
 * between them; the failed verdict stays on its wave, marked as overridden.
 * 404 for an unknown action, 409 unless it is paused.
 */
export async function resumeAction(
  deps: Pick<ScheduleDeps, "kv" | "config" | "now">,
  actionId: string,
  input: ResumeInput,
  who: AuditActor,
): Promise<ResumeReport> {
  const { kv } = deps;
  const done = await conditionalWrite<
    { action: ScheduledAction; stages: Stage[]; from: string; to: string }
  >(`action ${actionId}`, async () => {
    const [action, marker, pausing] = await kv.getMany<
      [ScheduledAction, ReschedulingMarker, unknown]
    >([
      keys.action(actionId),
      keys.actionRescheduling(actionId),
      keys.actionPausing(actionId),
    ]);
    if (!isActionVisible(action)) {
      throw new NotFoundError(`action ${actionId} not found`);
    }
    const a = action.value;
    refuseWhilePreparing(a, "it cannot be resumed");
    if (a.status !== "paused") {
      throw new ConflictError(
        `action ${actionId} is ${a.status}: only a paused rollout can be resumed`,
      );
    }
    const stages = await getStageEntries(kv, actionId);
    const waiting = stages.filter((e) => e.value.status === "pending")
      .sort((x, y) => x.value.index - y.value.index);
    if (waiting.length === 0) {
      throw new ConflictError(
        `action ${actionId} has no wave left to run; abort it instead`,
      );
    }
    const now = deps.now();
    const min = deps.config.scheduleMinAheadSeconds;
    const to = input.scheduledAt ??
      new Date(earliestResume(a, now, min)).toISOString();
    const issues = scheduledAtIssues(to, now, min);
    if (issues.length) {
      throw new BadRequestError(
        issues.map((i) => `${i.path}: ${i.message}`).join("; "),
        issues,
      );
    }
    const toIso = new Date(Date.parse(to)).toISOString();
    const from = waiting[0].value.scheduledAt;
    const shift = Date.parse(toIso) - Date.parse(from);
    const at = new Date(now).toISOString();
    const resumed: ScheduledAction = {
      ...a,
      status: "running",
      calendarSequence: (a.calendarSequence ?? 0) + 1,
      updatedAt: at,
    };
    const nextMarker: ReschedulingMarker = marker.value ?? {
      from,
      startedAt: at,
      fromByStage: toldTimes(stages.map((e) => e.value)),
    };
    const next = stages.map((e) => {
      const s = e.value;
      // The verdict stays on record; the admin's resume lets the next wave go.
      if (s.gate?.verdict === "failed" && !s.gate.resumedAt) {
        return { ...s, gate: { ...s.gate, resumedAt: at } };
      }
      return shiftStage(s, shift);
    });
    const audit = newAuditEntry(who, {
      change: "action.resume",
      subject: { type: "action", id: actionId },
      details: {
        status: ["paused", "running"],
        scheduledAt: [from, toIso],
        waves: waiting.map((e) => e.value.index + 1),
      },
      reason: input.reason,
    }, now);
    return {
      write: () => {
        const op = kv.atomic().check(action, marker, pausing)
          .set(keys.action(actionId), resumed)
          .set(keys.actionRescheduling(actionId), nextMarker)
          .delete(keys.actionPausing(actionId));
        stages.forEach((e, i) => putStage(op.check(e), e.value, next[i]));
        addAuditWrite(op, audit);
        return addWebhookEvent(
          op,
          actionEvent("action.resumed", resumed, now, {
            scheduledAt: toIso,
            from,
            to: toIso,
          }),
        );
      },
      result: {
        action: resumed,
        stages: next.filter((s) => s.status === "pending"),
        from,
        to: toIso,
      },
    };
  });
  const moved = await finishReschedule(deps, actionId);
  return { ...done, moved: moved.moved, inFlight: moved.inFlight };
}

/** How many waves had started (and so were applied, or are being) when it stopped. */
function wavesStarted(stages: Stage[]): number {
  return stages.filter((s) =>
    s.status !== "pending" && s.status !== "cancelled"
  )
    .length;
}

/**
 * Aborts a rollout: every target not changed yet is cancelled, with the
 * usual follow-ups to owners who were warned; the action ends `cancelled`
 * and remembers after how many waves. 404 unknown, 409 once it has finished.
 */
export async function abortAction(
  deps: CancelDeps,
  actionId: string,
  reasonText: string | null,
  actor: Pick<User, "id" | "email" | "name">,
  who: AuditActor,
): Promise<{ action: ScheduledAction; abortedAfterWave: number }> {
  const { kv } = deps;
  const before = await kv.get<ScheduledAction>(keys.action(actionId));
  if (!isActionVisible(before)) {
    throw new NotFoundError(`action ${actionId} not found`);
  }
  refuseWhilePreparing(before.value, "it cannot be aborted");
  const stages = (await getStageEntries(kv, actionId)).map((e) => e.value);
  const after = wavesStarted(stages);
  const outcome = await cancelActionTelling(deps, actionId, {
    abortedAfterWave: after,
  });
  const action = outcome.result.action;
  if (outcome.cancelledFrom !== null) {
    const key = keys.cancellation(actionId, null);
    await kv.atomic().check({ key, versionstamp: null }).set(key, {
      actionId,
      targetId: null,
      byUserId: actor.id,
      byLabel: nameAndEmail(actor),
      at: action.cancelledAt ?? new Date(deps.now()).toISOString(),
      reason: reasonText,
    }).commit();
    await recordAudit(kv, who, {
      change: "action.abort",
      subject: { type: "action", id: actionId },
      details: {
        status: [outcome.cancelledFrom, "cancelled"],
        afterWave: after,
      },
      reason: reasonText,
    }, deps.now());
  }
  return { action, abortedAfterWave: action.abortedAfterWave ?? after };
}

/**
 * Rolls back a version change: a new action moving each instance its waves
 * changed back to the tag it came from, at the earliest allowed time, with a
 * plain notice. A paused or running rollout is aborted first (its later
 * waves are not to run). 409 for a restart, or when nothing was changed.
 */
export async function rollbackAction(
  deps: CancelDeps & Pick<ScheduleDeps, "config">,
  actionId: string,
  reasonText: string | null,
  actor: Pick<User, "id" | "email" | "name">,
  who: AuditActor,
): Promise<ScheduleResult> {
  const { kv } = deps;
  const entry = await kv.get<ScheduledAction>(keys.action(actionId));
  if (!isActionVisible(entry)) {
    throw new NotFoundError(`action ${actionId} not found`);
  }
  const a = entry.value;
  refuseWhilePreparing(a, "it changed nothing to roll back yet");
  if (a.actionType !== "version_change") {
    throw new ConflictError(
      "only a version change can be rolled back: a restart changed nothing to go back to",
    );
  }
  const back = new Map<string, string>();
  const ids = await allTargetIdsOfAction(kv, actionId);
  for (let i = 0; i < ids.length; i += 500) {
    for (const e of await getTargetEntries(kv, ids.slice(i, i + 500))) {
      const t = e.value;
      if (t.status === "applied" && t.sourceImageTag !== t.targetImageTag) {
        back.set(t.instanceId, t.sourceImageTag);
      }
    }
  }
  if (back.size === 0) {
    throw new ConflictError(
      `action ${actionId} changed no instance yet: there is nothing to roll back`,
    );
  }
  const tags = new Map<string, number>();
  for (const tag of back.values()) tags.set(tag, (tags.get(tag) ?? 0) + 1);
  for (const tag of tags.keys()) {
    const c = await getCatalogEntry(kv, tag);
    if (!c?.available) {
      throw new ConflictError(
        `cannot roll back to ${tag}: it is not available in the catalog; make it available first`,
      );
    }
  }
  if (a.status === "paused" || a.status === "running") {
    await abortAction(
      deps,
      actionId,
      reasonText ?? "rolled back",
      actor,
      who,
    );
  }
  const main = [...tags.entries()].sort((x, y) => y[1] - x[1])[0][0];
  const fromVersion = (await getCatalogEntry(kv, main))?.openclawVersion ??
    main;
  const badVersion = a.imageTag
    ? (await getCatalogEntry(kv, a.imageTag))?.openclawVersion ?? a.imageTag
    : "the new version";
  const now = deps.now();
  const result = await scheduleAction(
    deps,
    {
      actionType: "version_change",
      imageTag: main,
      instanceIds: [...back.keys()],
      overridePins: false,
      scheduledAt: new Date(
        earliestResume(
          { notify: false, noticeLeadHours: 0 },
          now,
          deps.config.scheduleMinAheadSeconds,
        ),
      ).toISOString(),
      reason: reasonText ?? `roll back of ${a.imageTag ?? "a version change"}`,
      notify: a.notify,
      noticeLeadHours: Math.max(1, a.noticeLeadHours),
      reminderLeadHours: [],
      doneChannels: (a.doneChannels ?? []).filter((c) => c !== "webapp"),
      noticeSubject: "KiloClaw: moving your bot back",
      noticeBody:
        `We are moving your bot back to OpenClaw ${fromVersion} after a problem with OpenClaw ${badVersion}.`,
      noticeChannels: a.noticeChannels,
      gate: null,
      // A rollback is urgent: owners cannot put it off.
      ownerMayPostpone: null,
    },
    actor,
    {
      skipPending: true,
      targetImageTags: back,
      rollbackOf: actionId,
    },
  );
  await recordAudit(kv, who, {
    change: "action.rollback",
    subject: { type: "action", id: actionId },
    related: [{ type: "action", id: result.id }],
    details: {
      rollbackAction: result.id,
      instances: result.targets.total,
      toTags: [...tags.keys()],
    },
    reason: reasonText,
  }, now);
  return result;
}
