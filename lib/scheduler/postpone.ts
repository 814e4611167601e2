/**
 * An owner postpones their instance's change (within what the admin
 * allowed: `ownerMayPostpone`). One atomic operation, checked against the
 * instance's lock, the action, the target, its stage and every row of the
 * target, moves the target to the stage at the new time (created when
 * missing, waiting for the same wave its old stage waited for), re-times its
 * rows as a move does, and queues a `rescheduled` notice on each channel
 * that warned the owner: their confirmation. So:
 * - a warning claimed before the postpone loses its claim (the target and
 *   rows changed); one being sent goes out (saying the old time) and, once
 *   it is marked, the apply tick sends the `rescheduled` notice
 *   (`targets_postponing`, `finishPostpone`);
 * - racing the apply of its stage, either the stage started first (the
 *   postpone is refused: 409) or the postpone committed first (the apply's
 *   claim of the target fails and the target runs with its new stage): never
 *   both, never neither, whatever process dies where.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import {
  addToStageCounter,
  getPendingTargetLock,
  getStageEntries,
} from "../kv/actions.ts";
import { getInstance } from "../kv/instances.ts";
import { readTargetRows, warningInFlight } from "../notices/rows.ts";
import { putTarget } from "../apply/target_status.ts";
import { putStage, waitsForOf } from "../apply/stage_status.ts";
import { addMoveMutations } from "./reschedule.ts";
import { HOUR_MS, noticeDueAt } from "../due_times.ts";
import { addAuditWrite, newAuditEntry } from "../kv/audit.ts";
import { BadRequestError, ConflictError, NotFoundError } from "../errors.ts";
import { formatDateTime } from "../format.ts";
import {
  isActionOpen,
  type ScheduledAction,
  type Stage,
  type Target,
  type User,
} from "../types.ts";

/** Value of `keys.targetPostponing`: the time the owner was told before. */
export interface PostponingMarker {
  told: string;
}

export const PostponeInputSchema = z.strictObject({
  scheduledAt: z.iso.datetime({
    offset: true,
    error: "must be an ISO 8601 date and time, e.g. 2030-01-31T09:00:00Z",
  }),
});
export type PostponeInput = z.output<typeof PostponeInputSchema>;

export interface PostponeResult {
  instanceId: string;
  actionId: string;
  /** The instance's change, at its new time. */
  scheduledAt: string;
  postponesLeft: number;
  until: string;
}

/** An owner may not postpone within this long of the change, nor to sooner than this from now. */
export const POSTPONE_MARGIN_MS = HOUR_MS;

/**
 * Why this target's change cannot be postponed now, or null when it can:
 * what the banner offers and the route refuses with a 409.
 */
export function postponeRefusal(
  action: ScheduledAction,
  stage: Stage,
  target: Target,
  now: number,
): string | null {
  // A large action still being written is not the owner's business yet.
  if (action.status === "preparing") {
    return "no change is planned for this instance";
  }
  const allowed = action.ownerMayPostpone;
  if (!allowed) return "this change is urgent: it cannot be postponed";
  if (action.status === "paused") {
    return "this change is on hold: its new time will be announced";
  }
  if (!isActionOpen(action)) return `this change is ${action.status}`;
  if (target.status !== "pending" || stage.status !== "pending") {
    return "the change has started: it can no longer be postponed";
  }
  if (Date.parse(stage.scheduledAt) - now <= POSTPONE_MARGIN_MS) {
    return "the change is less than an hour away: it can no longer be postponed";
  }
  if ((target.postpones ?? 0) >= allowed.times) {
    return `it was already postponed ${allowed.times} time${
      allowed.times === 1 ? "" : "s"
    }, the most this change allows`;
  }
  if (Date.parse(allowed.until) < now + POSTPONE_MARGIN_MS) {
    return "the latest time it may be postponed to has passed";
  }
  return null;
}

/**
 * Postpones the owner's instance's pending change to `input.scheduledAt`.
 * 404 for an instance that is not theirs (or unknown), 409 when it cannot be
 * postponed (see `postponeRefusal`, or nothing is planned), 400 for a time
 * outside [now + 1 h, until] or not later than the current one.
 */
export async function postponeInstance(
  deps: { kv: Deno.Kv; now: () => number },
  instanceId: string,
  owner: Pick<User, "id" | "email">,
  input: PostponeInput,
  /** The zone a refusal names its times in (the owner's page); UTC by default, as the API answers. */
  say: { timeZone?: string | null } = {},
): Promise<PostponeResult> {
  const { kv } = deps;
  const when = (at: string) => formatDateTime(at, say.timeZone ?? null);
  return await conditionalWrite<PostponeResult>(
    `instance ${instanceId}`,
    async () => {
      const instance = await getInstance(kv, instanceId);
      if (!instance || instance.ownerId !== owner.id) {
        throw new NotFoundError(`instance ${instanceId} not found`);
      }
      const lock = await getPendingTargetLock(kv, instanceId);
      if (!lock.value) {
        throw new ConflictError("no change is planned for this instance");
      }
      const [action, target] = await kv.getMany<[ScheduledAction, Target]>([
        keys.action(lock.value.actionId),
        keys.target(lock.value.targetId),
      ]);
      if (!action.value || !target.value) {
        throw new ConflictError("no change is planned for this instance");
      }
      const a = action.value;
      const t = target.value;
      const stages = await getStageEntries(kv, a.id);
      const stage = stages.find((e) => e.value.index === t.stageIndex);
      if (!stage) {
        throw new ConflictError("no change is planned for this instance");
      }
      const now = deps.now();
      const refusal = postponeRefusal(a, stage.value, t, now);
      if (refusal) throw new ConflictError(refusal);
      const allowed = a.ownerMayPostpone!;
      const to = Date.parse(input.scheduledAt);
      const earliest = now + POSTPONE_MARGIN_MS;
      const until = Date.parse(allowed.until);
      const current = Date.parse(stage.value.scheduledAt);
      const timeProblem = to < earliest || to > until
        ? `must be between ${when(new Date(earliest).toISOString())} and ${
          when(allowed.until)
        }`
        : to <= current
        ? `must be later than the change's time now, ${
          when(stage.value.scheduledAt)
        }: a postpone moves it later`
        : null;
      if (timeProblem) {
        throw new BadRequestError(`scheduledAt: ${timeProblem}`, [
          { path: "scheduledAt", message: timeProblem },
        ]);
      }
      const rows = await readTargetRows(kv, t.id);
      // A warning being sent now still says the old time: once it is
      // marked, the apply tick tells the owner the new one.
      const inFlight = warningInFlight(rows);
      const marker = await kv.get<PostponingMarker>(
        keys.targetPostponing(t.id),
      );
      const toIso = new Date(to).toISOString();
      const waitsFor = waitsForOf(stage.value);
      const joined = stages.find((e) =>
        e.value.status === "pending" && e.value.scheduledAt === toIso &&
        waitsForOf(e.value) === waitsFor && e.value.origin === "postponed"
      );
      const index = joined?.value.index ??
        Math.max(...stages.map((e) => e.value.index)) + 1;
      const next: Stage = joined?.value ?? {
        actionId: a.id,
        index,
        scheduledAt: toIso,
        status: "pending",
        startedAt: null,
        finishedAt: null,
        waitsFor,
        origin: "postponed",
      };
      const at = new Date(now).toISOString();
      const moved: Target = {
        ...t,
        stageIndex: index,
        postpones: (t.postpones ?? 0) + 1,
        updatedAt: at,
      };
      const audit = newAuditEntry({
        actor: { id: owner.id, email: owner.email },
        via: "owner",
      }, {
        change: "target.postpone",
        subject: { type: "action", id: a.id },
        related: [{ type: "instance", id: instanceId }],
        details: {
          targetId: t.id,
          scheduledAt: [stage.value.scheduledAt, toIso],
          postpones: moved.postpones,
        },
      }, now);
      return {
        write: () => {
          const op = kv.atomic().check(lock, action, target, stage);
          if (joined) op.check(joined);
          else {
            op.check({ key: keys.stage(a.id, index), versionstamp: null });
            putStage(op, null, next);
          }
          putTarget(op, t, moved);
          addToStageCounter(op, stage.value, "moved_out");
          op.check(marker);
          if (inFlight) {
            // Postponed again before it was finished: the time told stays.
            op.set(
              keys.targetPostponing(t.id),
              {
                told: marker.value?.told ?? stage.value.scheduledAt,
              } satisfies PostponingMarker,
            );
          }
          addToStageCounter(op, next, "total");
          addMoveMutations(op, rows, {
            now,
            noticeDue: Math.max(now, noticeDueAt(a, next)),
            action: a,
            stage: next,
            to: toIso,
            told: stage.value.scheduledAt,
            restage: index,
          });
          return addAuditWrite(op, audit);
        },
        result: {
          instanceId,
          actionId: a.id,
          scheduledAt: toIso,
          postponesLeft: allowed.times - moved.postpones!,
          until: allowed.until,
        },
      };
    },
  );
}

/**
 * Finishes a postpone made while a warning was in flight, once it is marked:
 * the channels it reached get a `rescheduled` notice. The apply tick runs it
 * for every marker; safe to run again.
 */
export async function finishPostpone(
  deps: { kv: Deno.Kv; now: () => number },
  targetId: string,
): Promise<boolean> {
  const { kv } = deps;
  return await conditionalWrite<boolean>(`target ${targetId}`, async () => {
    const marker = await kv.get<PostponingMarker>(
      keys.targetPostponing(targetId),
    );
    if (!marker.value) return { done: true };
    const t = await kv.get<Target>(keys.target(targetId));
    const rows = await readTargetRows(kv, targetId);
    if (
      warningInFlight(rows)
    ) {
      return { done: false };
    }
    const [action, stage] = t.value
      ? await kv.getMany<[ScheduledAction, Stage]>([
        keys.action(t.value.actionId),
        keys.stage(t.value.actionId, t.value.stageIndex),
      ])
      : [null, null];
    const live = t.value?.status === "pending" && action?.value &&
      stage?.value && isActionOpen(action.value) &&
      stage.value.status === "pending";
    return {
      write: () => {
        const op = kv.atomic().check(marker, t).delete(marker.key);
        if (!live) return op;
        return addMoveMutations(op.check(action!, stage!), rows, {
          now: deps.now(),
          noticeDue: Math.max(
            deps.now(),
            noticeDueAt(action!.value!, stage!.value!),
          ),
          action: action!.value!,
          stage: stage!.value!,
          to: stage!.value!.scheduledAt,
          told: marker.value.told,
          restage: stage!.value!.index,
        });
      },
      result: true,
    };
  });
}
