/**
 * A notification's parents (action, stage, target): reading them for a set of
 * rows, and the rules that decide whether a notice may still go out.
 */
import { keys } from "../kv/keys.ts";
import { getManyById } from "../kv/read.ts";
export { actionWriteState, isActionVisible } from "../kv/actions.ts";
import type { Notification, ScheduledAction, Stage, Target } from "../types.ts";

export const PARENT_CHANGED =
  "parent state changed before notice was dispatched";

/**
 * A row older than this whose action never became visible, and whose write
 * the scheduler counts as abandoned, is an orphan of a crashed write; younger
 * ones may belong to a write still in progress and are left alone.
 */
export const ORPHAN_AFTER_MS = 15 * 60_000;

/** DESIGN rule 1: a notice may fire only while nothing downstream has moved on. */
export function noticeMayFire(
  action: ScheduledAction,
  stage: Stage,
  target: Target,
): boolean {
  return (action.status === "scheduled" || action.status === "running") &&
    (stage.status === "pending" || stage.status === "running") &&
    target.status === "pending";
}

/** The whole action, or just this target, was called off. */
export function parentCancelled(
  action: ScheduledAction | null,
  target: Target | null,
): boolean {
  return action?.status === "cancelled" ||
    (target?.status === "skipped" && target.skipReason === "cancelled");
}

export interface ParentEntries {
  action: Deno.KvEntryMaybe<ScheduledAction>;
  stage: Deno.KvEntryMaybe<Stage>;
  target: Deno.KvEntryMaybe<Target>;
}

const stageId = (actionId: string, index: number) =>
  `${actionId}\u0000${index}`;

/** Reads the parents of every row, each distinct record once. */
export async function readParents(
  kv: Deno.Kv,
  rows: Notification[],
): Promise<Map<string, ParentEntries>> {
  const [actions, stages, targets] = await Promise.all([
    getManyById<ScheduledAction>(
      kv,
      rows.map((r) => r.actionId),
      (id) => keys.action(id),
    ),
    getManyById<Stage>(
      kv,
      rows.map((r) => stageId(r.actionId, r.stageIndex)),
      (id) => {
        const [actionId, index] = id.split("\u0000");
        return keys.stage(actionId, Number(index));
      },
    ),
    getManyById<Target>(
      kv,
      rows.map((r) => r.targetId),
      (id) => keys.target(id),
    ),
  ]);
  const out = new Map<string, ParentEntries>();
  for (const r of rows) {
    out.set(r.id, {
      action: actions.get(r.actionId)!,
      stage: stages.get(stageId(r.actionId, r.stageIndex))!,
      target: targets.get(r.targetId)!,
    });
  }
  return out;
}
