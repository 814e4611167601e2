/**
 * The audit entries of the scheduler's changes. Schedule, cancel and
 * reschedule take several atomic operations; each is recorded once it is done.
 */
import {
  type AuditActor,
  changedFields,
  newAuditEntry,
  recordAudit as recordAuditEntry,
} from "../kv/audit.ts";
import { auditActorOf } from "../request_state.ts";
import { log } from "../operations/log.ts";
import type { State } from "../request_state.ts";
import type {
  AuditEntry,
  CatalogEntry,
  Instance,
  ScheduledAction,
  Target,
  User,
} from "../types.ts";
import type { ScheduleResult } from "./schedule.ts";
import type { RecountReport } from "../notices/recount.ts";

/**
 * The change itself is done when this runs: an audit write that fails past
 * its retries is logged with the whole entry, and the admin still gets the
 * change's answer rather than an error for something that happened.
 */
async function recordAudit(
  ...args: Parameters<typeof recordAuditEntry>
): Promise<AuditEntry | null> {
  try {
    return await recordAuditEntry(...args);
  } catch (err) {
    log.error("audit entry not written", {
      error: String(err),
      change: args[2].change,
      subject: `${args[2].subject.type}:${args[2].subject.id}`,
      actor: args[1].actor.id,
      details: JSON.stringify(args[2].details),
    });
    return null;
  }
}

interface Deps {
  kv: Deno.Kv;
  now: () => number;
}

export function auditSchedule(
  deps: Deps,
  state: State,
  result: ScheduleResult,
): Promise<AuditEntry | null> {
  const a = result.action;
  return recordAudit(deps.kv, auditActorOf(state), {
    change: "action.schedule",
    subject: { type: "action", id: a.id },
    details: {
      actionType: a.actionType,
      imageTag: a.imageTag,
      scheduledAt: result.stage.scheduledAt,
      targets: result.targets.total,
      notify: a.notify,
      noticeLeadHours: a.noticeLeadHours,
      noticeChannels: a.noticeChannels,
      reminderLeadHours: a.reminderLeadHours ?? [],
      doneChannels: a.doneChannels ?? [],
    },
    reason: a.reason,
  }, deps.now());
}

export function auditCancelAction(
  deps: Deps,
  state: State,
  before: ScheduledAction["status"] | null,
  action: ScheduledAction,
  reason: string | null,
): Promise<AuditEntry | null> {
  return recordAudit(deps.kv, auditActorOf(state), {
    change: "action.cancel",
    subject: { type: "action", id: action.id },
    details: { status: [before, action.status] },
    reason,
  }, deps.now());
}

export function auditCancelTarget(
  deps: Deps,
  state: State,
  target: Target,
  reason: string | null,
): Promise<AuditEntry | null> {
  return recordAudit(deps.kv, auditActorOf(state), {
    change: "target.cancel",
    subject: { type: "action", id: target.actionId },
    related: [{ type: "instance", id: target.instanceId }],
    details: {
      targetId: target.id,
      instanceId: target.instanceId,
      status: target.status,
    },
    reason,
  }, deps.now());
}

export function auditRecount(
  deps: Deps,
  state: State,
  report: RecountReport,
): Promise<AuditEntry | null> {
  return recordAudit(deps.kv, auditActorOf(state), {
    change: "action.recount",
    subject: { type: "action", id: report.actionId },
    details: { corrected: report.corrected, changes: report.changes },
  }, deps.now());
}

export function auditReschedule(
  deps: Deps,
  who: AuditActor,
  actionId: string,
  details: Record<string, unknown>,
  reason: string | null,
): Promise<AuditEntry | null> {
  return recordAudit(deps.kv, who, {
    change: "action.reschedule",
    subject: { type: "action", id: actionId },
    details,
    reason,
  }, deps.now());
}

/** Builders for the data changes, written in the change's own atomic operation. */
export function catalogAudit(state: State, now: number) {
  return (prev: CatalogEntry | null, next: CatalogEntry) =>
    newAuditEntry(auditActorOf(state), {
      change: "catalog.put",
      subject: { type: "catalog", id: next.imageTag },
      details: changedFields(prev, next, ["openclawVersion", "available"]),
    }, now);
}

export function userAudit(state: State, now: number) {
  return (prev: User | null, next: User) =>
    newAuditEntry(auditActorOf(state), {
      change: "user.put",
      subject: { type: "user", id: next.id },
      details: changedFields(prev, next, ["email", "name", "timeZone", "role"]),
    }, now);
}

/** An admin's edit of a user's settings: each changed setting as `[before, after]` in words. */
export function userSettingsAudit(state: State, userId: string, now: number) {
  return (details: Record<string, unknown>) =>
    newAuditEntry(auditActorOf(state), {
      change: "user.settings",
      subject: { type: "user", id: userId },
      details,
    }, now);
}

export function userDeleteAudit(state: State, now: number) {
  return (prev: User) =>
    newAuditEntry(auditActorOf(state), {
      change: "user.delete",
      subject: { type: "user", id: prev.id },
      details: { email: prev.email },
    }, now);
}

export function instanceAudit(state: State, now: number) {
  return (prev: Instance | null, next: Instance) =>
    newAuditEntry(auditActorOf(state), {
      change: "instance.put",
      subject: { type: "instance", id: next.id },
      related: [{ type: "user", id: next.ownerId }],
      details: changedFields(prev, next, [
        "name",
        "ownerId",
        "imageTag",
        "pinnedImageTag",
        "status",
      ]),
    }, now);
}
