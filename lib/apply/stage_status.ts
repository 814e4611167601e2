/**
 * A due stage and its action start running together, and finish together
 * once every target has ended: completed, or failed when nothing was applied
 * or skipped. Counters are per action; with one stage per action that is the
 * stage's count too.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getActionCounters } from "../kv/actions.ts";
import { isActionOpen, isStageLive } from "../types.ts";
import type { ScheduledAction, Stage } from "../types.ts";
import { actionEvent, addWebhookEvent } from "../webhooks/events.ts";

/**
 * Writes `next` in place of `prev` (null: a new stage; `next` null: the stage
 * is removed, by the retention purge), moving its due key in the same atomic
 * operation: a stage has a `stages_due` key, at its time, exactly while it is
 * live (pending or running). Nothing else writes stages.
 */
export function putStage(
  op: Deno.AtomicOperation,
  prev: Stage | null,
  next: Stage | null,
): Deno.AtomicOperation {
  const dueKey = (s: Stage) =>
    keys.stageDue(Date.parse(s.scheduledAt), s.actionId, s.index);
  const wasDue = prev !== null && isStageLive(prev);
  const isDue = next !== null && isStageLive(next);
  const sameKey = wasDue && isDue && prev.scheduledAt === next.scheduledAt;
  if (wasDue && !sameKey) op.delete(dueKey(prev));
  if (!next) return op.delete(keys.stage(prev!.actionId, prev!.index));
  op.set(keys.stage(next.actionId, next.index), next);
  if (isDue && !sameKey) op.set(dueKey(next), null);
  return op;
}

/** Removes a due key whose stage will never run (found by the tick). */
export function dropStaleDueKey(
  op: Deno.AtomicOperation,
  key: Deno.KvKey,
): Deno.AtomicOperation {
  return op.delete(key);
}

export interface StageEntries {
  action: Deno.KvEntry<ScheduledAction>;
  stage: Deno.KvEntry<Stage>;
}

async function readStage(
  kv: Deno.Kv,
  actionId: string,
  index: number,
): Promise<Partial<StageEntries>> {
  const [action, stage] = await kv.getMany<[ScheduledAction, Stage]>([
    keys.action(actionId),
    keys.stage(actionId, index),
  ]);
  return {
    action: action.value ? action as Deno.KvEntry<ScheduledAction> : undefined,
    stage: stage.value ? stage as Deno.KvEntry<Stage> : undefined,
  };
}

/**
 * The stage, running, with its action; null when it is not runnable now
 * (cancelled, finished, moved later, not visible, or lost to a racing cancel
 * or tick — the next tick sees where it landed). A stage no longer live
 * leaves the due list.
 */
export async function startStage(
  kv: Deno.Kv,
  actionId: string,
  index: number,
  now: number,
): Promise<StageEntries | null> {
  const { action, stage } = await readStage(kv, actionId, index);
  if (!action || !stage) return null;
  if (!isActionOpen(action.value) || !isStageLive(stage.value)) {
    // Its due key, if it kept one, is stale: the stage will never run.
    await dropStaleDueKey(
      kv.atomic().check(stage),
      keys.stageDue(Date.parse(stage.value.scheduledAt), actionId, index),
    ).commit();
    return null;
  }
  // Moved later after the due list was read: its time has not come.
  if (Date.parse(stage.value.scheduledAt) > now) return null;
  if (stage.value.status === "running") return { action, stage };
  const at = new Date(now).toISOString();
  const started: ScheduledAction = {
    ...action.value,
    status: "running",
    startedAt: action.value.startedAt ?? at,
    updatedAt: at,
  };
  const running: Stage = { ...stage.value, status: "running", startedAt: at };
  // Reported once, when the action's first stage starts.
  const event = action.value.status === "scheduled"
    ? actionEvent("action.started", started, now, {
      scheduledAt: stage.value.scheduledAt,
    })
    : null;
  const res = await commitRetrying(() => {
    const op = putStage(kv.atomic().check(action, stage), stage.value, running)
      .set(keys.action(actionId), started);
    return event ? addWebhookEvent(op, event) : op;
  });
  if (!res.ok) return null;
  // Both written by that commit: its versionstamp is theirs.
  const { versionstamp } = res;
  return {
    action: { key: action.key, value: started, versionstamp },
    stage: { key: stage.key, value: running, versionstamp },
  };
}

/** Finishes the stage and its action once every target has ended. */
export async function finishStage(
  kv: Deno.Kv,
  actionId: string,
  index: number,
  now: number,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const c = await getActionCounters(kv, actionId);
    if (c.applied + c.skipped + c.failed < c.total) return;
    const { action, stage } = await readStage(kv, actionId, index);
    if (action?.value.status !== "running") return;
    if (stage?.value.status !== "running") return;
    const at = new Date(now).toISOString();
    const status = c.applied + c.skipped === 0 ? "failed" : "completed";
    const s = stage.value;
    const finished: ScheduledAction = {
      ...action.value,
      status,
      finishedAt: at,
      updatedAt: at,
    };
    const event = actionEvent(
      status === "failed" ? "action.failed" : "action.completed",
      finished,
      now,
      { scheduledAt: s.scheduledAt, counts: c },
    );
    const res = await commitRetrying(() =>
      addWebhookEvent(
        putStage(kv.atomic().check(action, stage), s, {
          ...s,
          status,
          finishedAt: at,
        }).set(keys.action(actionId), finished),
        event,
      )
    );
    if (res.ok) return;
  }
}
