/**
 * Moving an action to another time. First the action and its stage move in
 * one atomic operation (with a marker naming the time users were told), so
 * every claim of a notice, every apply claim and every cancel that read the
 * old records loses from then on. Then each pending target's rows follow, one
 * atomic operation per target checked by versionstamp: pending notices are
 * re-timed, and every channel that already warned the owner (or may have)
 * gets a `rescheduled` notice, due at once. A target with a notice in flight
 * is left for the apply tick, which finishes the move once that notice is
 * marked; the marker goes when no pending target is left to move.
 */
import { keys } from "../kv/keys.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import {
  allTargetIdsOfAction,
  getStageEntries,
  getTargetEntries,
} from "../kv/actions.ts";
import { isActionVisible } from "../kv/actions.ts";
import {
  addNewRow,
  HELD_DUE_AT,
  readTargetRows,
  rescheduledRowFor,
  warningInFlight,
} from "../notices/rows.ts";
import { noticeDueAt, warningDueAt } from "../due_times.ts";
import { asFailed, putRow as putRowAs } from "../notices/row_status.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors.ts";
import { refuseWhilePreparing } from "../preparing_refusal.ts";
import { leadIssues } from "./schemas.ts";
import { scheduledAtIssues } from "./schedule_checks.ts";
import { putStage } from "../apply/stage_status.ts";
import { forEachLimited } from "../kv/commits.ts";
import type { Config } from "../config.ts";
import type { RescheduleInput } from "./schemas.ts";
import {
  type Channel,
  isActionOpen,
  isMovable,
  MAX_EARLIER_SENDS,
  type Notification,
  type ScheduledAction,
  type SkipReason,
  type Stage,
  type Target,
  type TargetStatus,
} from "../types.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";

export interface RescheduleDeps {
  kv: Deno.Kv;
  config: Pick<Config, "scheduleMinAheadSeconds">;
  now: () => number;
}

/** What a move in progress remembers: the time owners were last told. */
export interface ReschedulingMarker {
  /** The first stage's time owners were last told. */
  from: string;
  startedAt: string;
  /** Each stage's time its owners were last told (a rollout's waves; absent: `from` for all). */
  fromByStage?: Record<string, string>;
}

export interface NotMovedTarget {
  targetId: string;
  instanceId: string;
  status: TargetStatus;
  skipReason: SkipReason | null;
}

export interface RescheduleReport {
  from: string;
  to: string;
  noticeLeadHours: { from: number; to: number };
  /** Pending targets whose notices now follow the new time. */
  moved: number;
  /** Targets left alone because they are no longer pending (applied, skipped, failed, running). */
  notMoved: NotMovedTarget[];
  notMovedCount: number;
  /** Pending targets with a notice being sent right now: the apply tick finishes them. */
  inFlight: number;
}

export const MOVED_AFTER_UNCERTAIN_DELIVERY =
  "action moved after a delivery attempt whose outcome is unknown; a rescheduled notice follows";
export const MOVED_BACK = "action moved back to the time announced before";
export const RESUMED_BEFORE_HOLD =
  "rollout resumed before the hold was announced; the new time is told instead";
export const REMINDER_WINDOW_PASSED =
  "skipped: the reminder's time had already passed at the new time";

/** Targets listed by name in a report; the rest are counted. */
const NOT_MOVED_LISTED = 100;

/**
 * Moves the action and its stage, then its pending targets' notices. 404 for
 * an unknown action, 409 once it is no longer only scheduled (cancelled,
 * being applied, finished) or when a racing change keeps winning.
 */
export async function rescheduleAction(
  deps: RescheduleDeps,
  actionId: string,
  input: RescheduleInput,
): Promise<RescheduleReport> {
  const { kv } = deps;
  const moved = await conditionalWrite<
    { from: string; to: string; lead: [number, number] }
  >(`action ${actionId}`, async () => {
    const [action, marker] = await kv.getMany<
      [ScheduledAction, ReschedulingMarker]
    >([
      keys.action(actionId),
      keys.actionRescheduling(actionId),
    ]);
    const stages = await getStageEntries(kv, actionId);
    const stage = stages.find((e) => e.value.index === 0);
    if (!isActionVisible(action) || !stage) {
      throw new NotFoundError(`action ${actionId} not found`);
    }
    const a = action.value;
    const s = stage.value;
    refuseWhilePreparing(a, "it cannot be moved yet");
    if (!isMovable(a, s)) {
      throw new ConflictError(
        a.status === "running" || s.status === "running"
          ? `action ${actionId} is being applied right now and can no longer be moved`
          : `action ${actionId} is ${a.status} and can no longer be moved`,
      );
    }
    const now = deps.now();
    const lead = input.noticeLeadHours ?? a.noticeLeadHours;
    // The time and the reminders' rule are said together, not one at a time.
    const issues = scheduledAtIssues(
      input.scheduledAt,
      now,
      deps.config.scheduleMinAheadSeconds,
    );
    issues.push(
      ...leadIssues(a, lead, input.noticeLeadHours !== undefined),
    );
    if (issues.length) {
      throw new BadRequestError(
        issues.map((i) => `${i.path}: ${i.message}`).join("; "),
        issues,
      );
    }
    const to = new Date(Date.parse(input.scheduledAt)).toISOString();
    const stamp = new Date(now).toISOString();
    const nextAction: ScheduledAction = {
      ...a,
      noticeLeadHours: lead,
      calendarSequence: (a.calendarSequence ?? 0) + 1,
      updatedAt: stamp,
    };
    // Every wave moves by the same amount: the rollout keeps its shape.
    const shift = Date.parse(to) - Date.parse(s.scheduledAt);
    // A move on top of an unfinished one keeps the time owners were told.
    const nextMarker: ReschedulingMarker = marker.value ?? {
      from: s.scheduledAt,
      startedAt: stamp,
      fromByStage: toldTimes(stages.map((e) => e.value)),
    };
    const rescheduled = actionEvent("action.rescheduled", nextAction, now, {
      scheduledAt: to,
      from: s.scheduledAt,
      to,
    });
    return {
      write: () => {
        const op = kv.atomic().check(action, marker)
          .set(keys.action(actionId), nextAction)
          .set(keys.actionRescheduling(actionId), nextMarker);
        for (const e of stages) {
          putStage(op.check(e), e.value, shiftStage(e.value, shift));
        }
        return addWebhookEvent(op, rescheduled);
      },
      result: { from: s.scheduledAt, to, lead: [a.noticeLeadHours, lead] },
    };
  });
  const done = await finishReschedule(deps, actionId);
  return {
    from: moved.from,
    to: moved.to,
    noticeLeadHours: { from: moved.lead[0], to: moved.lead[1] },
    ...done,
  };
}

/** Each stage's time, as a move's marker keeps it. */
export function toldTimes(stages: Stage[]): Record<string, string> {
  return Object.fromEntries(
    stages.map((s) => [String(s.index), s.scheduledAt]),
  );
}

/** The stage `shift` ms later (a stage no longer pending keeps its time). */
export function shiftStage(s: Stage, shift: number): Stage {
  return s.status === "pending"
    ? {
      ...s,
      scheduledAt: new Date(Date.parse(s.scheduledAt) + shift).toISOString(),
    }
    : s;
}

/**
 * Brings every pending target's rows to the stage's time. Safe to run again
 * (the apply tick does, while the marker is there): each step is judged
 * from what is stored.
 */
export async function finishReschedule(
  deps: Pick<RescheduleDeps, "kv" | "now">,
  actionId: string,
): Promise<Omit<RescheduleReport, "from" | "to" | "noticeLeadHours">> {
  const { kv } = deps;
  const report = {
    moved: 0,
    notMoved: [] as NotMovedTarget[],
    notMovedCount: 0,
    inFlight: 0,
  };
  const marker = await kv.get<ReschedulingMarker>(
    keys.actionRescheduling(actionId),
  );
  if (!marker.value) return report;
  const action = await kv.get<ScheduledAction>(keys.action(actionId));
  // Scheduled, or a resumed rollout running again; each target's own stage
  // decides whether it still moves (moveTarget).
  const live = action.value !== null && isActionOpen(action.value);
  if (live) {
    const ids = await allTargetIdsOfAction(kv, actionId);
    for (let i = 0; i < ids.length; i += 200) {
      const entries = await getTargetEntries(kv, ids.slice(i, i + 200));
      for (const e of entries) {
        if (e.value.status === "pending") continue;
        report.notMovedCount++;
        if (report.notMoved.length < NOT_MOVED_LISTED) {
          report.notMoved.push({
            targetId: e.value.id,
            instanceId: e.value.instanceId,
            status: e.value.status,
            skipReason: e.value.skipReason,
          });
        }
      }
      const pending = entries.filter((e) => e.value.status === "pending");
      await forEachLimited(pending, 8, async (e) => {
        const m = marker.value!;
        const told = m.fromByStage?.[String(e.value.stageIndex)] ?? m.from;
        const outcome = await moveTarget(deps, e.value.id, told);
        if (outcome === "moved") report.moved++;
        else if (outcome === "in_flight") report.inFlight++;
        else report.notMovedCount++;
      });
    }
  }
  // Done (or nothing left to move: a cancel or the apply took over).
  if (!live || report.inFlight === 0) {
    await kv.atomic().check(marker).delete(keys.actionRescheduling(actionId))
      .commit();
  }
  return report;
}

type MoveOutcome = "moved" | "in_flight" | "left";

/** One pending target's rows, brought to its stage's time in one atomic operation. */
async function moveTarget(
  deps: Pick<RescheduleDeps, "kv" | "now">,
  targetId: string,
  toldTime: string,
): Promise<MoveOutcome> {
  const { kv } = deps;
  return await conditionalWrite<MoveOutcome>(`target ${targetId}`, async () => {
    const t = await kv.get<Target>(keys.target(targetId));
    if (t.value?.status !== "pending") return { done: "left" };
    const [action, stage] = await kv.getMany<[ScheduledAction, Stage]>([
      keys.action(t.value.actionId),
      keys.stage(t.value.actionId, t.value.stageIndex),
    ]);
    if (!action.value || !stage.value) return { done: "left" };
    // Its wave has started (or ended): it is no longer moved.
    if (!isActionOpen(action.value) || stage.value.status !== "pending") {
      return { done: "left" };
    }
    const rows = await readTargetRows(kv, targetId);
    // A warning being sent right now: its outcome decides what follows.
    if (
      warningInFlight(rows)
    ) {
      return { done: "in_flight" };
    }
    const now = deps.now();
    const move = {
      now,
      noticeDue: Math.max(now, noticeDueAt(action.value, stage.value)),
      action: action.value,
      stage: stage.value,
      to: stage.value.scheduledAt,
      told: toldTime,
    };
    return {
      write: () =>
        addMoveMutations(kv.atomic().check(t, action, stage), rows, move),
      result: "moved",
    };
  });
}

/**
 * What a move does to one target's rows. Pending notices take the new due
 * time; a notice that reached the owner (or may have, or sits in an email
 * group whose key is bound to what it said) is followed by a `rescheduled`
 * row per channel, due at once, saying where it moved from.
 */
export function addMoveMutations(
  op: Deno.AtomicOperation,
  rows: Deno.KvEntry<Notification>[],
  o: {
    now: number;
    noticeDue: number;
    action: ScheduledAction;
    stage: Stage;
    to: string;
    told: string;
    /** The target moves to this stage (an owner's postpone): every row follows it. */
    restage?: number;
  },
): Deno.AtomicOperation {
  const at = new Date(o.now).toISOString();
  const written = new Set<string>();
  const restaged = (row: Notification): Notification =>
    o.restage === undefined ? row : { ...row, stageIndex: o.restage };
  const putRow = (
    op: Deno.AtomicOperation,
    prev: Notification,
    next: Notification,
  ) => {
    written.add(prev.id);
    return putRowAs(op, prev, restaged(next));
  };
  const rescheduled = new Map<Channel, Deno.KvEntry<Notification>>();
  for (const e of rows) {
    if (e.value.kind === "rescheduled") rescheduled.set(e.value.channel, e);
    // A hold not announced yet: the new time says it all.
    if (
      e.value.kind === "on_hold" && e.value.status === "pending" &&
      e.value.groupId === null
    ) {
      putRow(
        op.check(e),
        e.value,
        asFailed(e.value, RESUMED_BEFORE_HOLD, o.now),
      );
    }
  }
  // One rescheduled notice per channel that warned the owner.
  const warnedOn = new Map<Channel, Notification>();
  const warned = (row: Notification) => {
    if (!warnedOn.has(row.channel)) warnedOn.set(row.channel, row);
  };
  for (const e of rows) {
    const row = e.value;
    if (row.kind !== "notice" && row.kind !== "reminder") continue;
    if (row.status === "pending") {
      const due = row.kind === "notice"
        ? o.noticeDue
        : warningDueAt(row, o.action, o.stage)!;
      if (row.groupId !== null || row.deliveryUncertain) {
        putRow(
          op.check(e),
          row,
          asFailed(row, MOVED_AFTER_UNCERTAIN_DELIVERY, o.now),
        );
        warned(row);
      } else if (row.kind === "reminder" && due <= o.now) {
        // Its window at the new time has passed: skipped, never sent late.
        putRow(op.check(e), row, asFailed(row, REMINDER_WINDOW_PASSED, o.now));
      } else if (row.dueAt !== due) {
        putRow(op.check(e), row, { ...row, dueAt: due, updatedAt: at });
      }
    } else if (
      row.status === "sent" ||
      (row.status === "failed" && row.deliveryUncertain)
    ) warned(row);
  }
  for (const notice of warnedOn.values()) {
    const prev = rescheduled.get(notice.channel);
    if (!prev) {
      if (o.told !== o.to) {
        addNewRow(
          op,
          rescheduledRowFor(restaged(notice), o.told, o.to, o.now),
        );
      }
      continue;
    }
    const r = prev.value;
    if (r.status === "pending") {
      // Still unsent: it tells the new time when it goes; moved back to what
      // the owner was told, there is nothing to say.
      if (r.movedFrom === o.to && r.groupId === null) {
        putRow(op.check(prev), r, asFailed(r, MOVED_BACK, o.now));
      } else if (
        (r.movedTo !== o.to || r.dueAt === HELD_DUE_AT) && r.groupId === null
      ) {
        // Held by a pause: it goes now, with the new time.
        const dueAt = r.dueAt === HELD_DUE_AT ? o.now : r.dueAt;
        putRow(op.check(prev), r, {
          ...r,
          movedTo: o.to,
          dueAt,
          updatedAt: at,
        });
      }
    } else if (r.movedTo !== o.to) {
      // Sent (or tried) before: the owner hears of this move too.
      const told = r.status === "sent" || r.deliveryUncertain;
      const from = told ? r.movedTo ?? o.told : r.movedFrom ?? o.told;
      if (from === o.to) continue;
      // What the owner was told before stays on the row.
      const earlierSends = told && r.movedFrom && r.movedTo
        ? [...r.earlierSends ?? [], {
          movedFrom: r.movedFrom,
          movedTo: r.movedTo,
          sentAt: r.status === "sent" ? r.sentAt : null,
        }].slice(-MAX_EARLIER_SENDS)
        : r.earlierSends;
      putRow(op.check(prev), r, {
        ...r,
        ...(earlierSends ? { earlierSends } : {}),
        status: "pending",
        dueAt: o.now,
        attempts: 0,
        groupId: null,
        claimId: null,
        claimedAt: null,
        sentAt: null,
        error: null,
        deliveryUncertain: false,
        movedFrom: from,
        movedTo: o.to,
        updatedAt: at,
      });
    }
  }
  if (o.restage !== undefined) {
    for (const e of rows) {
      // A row being sent is its claimer's to mark; it keeps its stage.
      if (
        !written.has(e.value.id) && e.value.stageIndex !== o.restage &&
        e.value.status !== "sending"
      ) {
        putRow(op.check(e), e.value, e.value);
      }
    }
  }
  return op;
}
