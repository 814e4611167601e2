/**
 * A stage is one wave of an action. A due stage starts (its action with it,
 * the first time) once the wave before it is done: applied, soaked, and
 * passed by the health gate when there is one. It finishes once each of its
 * targets has ended (its own counters say so): completed, or failed when
 * nothing was applied or skipped; its soak and gate begin then. The action
 * finishes with the last of its targets.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getActionCounters, getStageCounts } from "../kv/actions.ts";
import { isActionOpen, isStageLive } from "../types.ts";
import type { ScheduledAction, Stage } from "../types.ts";
import {
  actionEvent,
  addWebhookEvent,
  type WebhookEvent,
} from "../webhooks/events.ts";

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
  // The gate's key: at its next reading, exactly while one is due.
  const gateKey = (s: Stage | null) =>
    s?.gate?.nextAt
      ? keys.stageGateDue(Date.parse(s.gate.nextAt), s.actionId, s.index)
      : null;
  const [oldGate, newGate] = [gateKey(prev), gateKey(next)];
  if (oldGate && String(oldGate) !== String(newGate)) op.delete(oldGate);
  if (!next) return op.delete(keys.stage(prev!.actionId, prev!.index));
  op.set(keys.stage(next.actionId, next.index), next);
  if (isDue && !sameKey) op.set(dueKey(next), null);
  if (newGate && String(oldGate) !== String(newGate)) op.set(newGate, null);
  return op;
}

/** The stage whose wave must be done before this one starts (absent `waitsFor`: the one before it). */
export function waitsForOf(
  s: Pick<Stage, "index" | "waitsFor">,
): number | null {
  return s.waitsFor === undefined
    ? (s.index > 0 ? s.index - 1 : null)
    : s.waitsFor;
}

/**
 * May the wave after `prev` start now? Only once `prev` has ended, its soak
 * is over and its gate passed (or an admin resumed over a failed verdict).
 */
export function mayFollow(prev: Stage, now: number): boolean {
  if (isStageLive(prev)) return false;
  if (prev.gate) {
    return prev.gate.verdict === "passed" || !!prev.gate.resumedAt;
  }
  return !prev.soakUntil || Date.parse(prev.soakUntil) <= now;
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
  // A later wave waits for the one before it: its due key stays, and the
  // next tick looks again. The check below makes a gate that paused the
  // action meanwhile win.
  let before: Deno.KvEntryMaybe<Stage> | null = null;
  const waitsFor = waitsForOf(stage.value);
  if (waitsFor !== null) {
    before = await kv.get<Stage>(keys.stage(actionId, waitsFor));
    if (!before.value || !mayFollow(before.value, now)) return null;
  }
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
    if (before) op.check(before);
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

/**
 * Finishes the stage once each of its targets has ended, and its action once
 * all of the action's have. A wave that soaks or has a gate starts its soak
 * now; its gate reads the wave's health at once and then during the soak.
 */
export async function finishStage(
  kv: Deno.Kv,
  actionId: string,
  index: number,
  now: number,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const c = await getActionCounters(kv, actionId);
    // An action scheduled before stages had counters has one stage: the action's.
    const sc = (await getStageCounts(kv, actionId)).get(index) ??
      { ...c, cancelled: 0 };
    const stageTotal = sc.total;
    const stageEnded = sc.applied + sc.skipped + sc.cancelled + sc.failed;
    if (stageEnded < stageTotal) return;
    const actionDone = c.applied + c.skipped + c.failed >= c.total;
    const { action, stage } = await readStage(kv, actionId, index);
    if (!action || !stage) return;
    if (stage.value.status !== "running") return;
    const at = new Date(now).toISOString();
    const s = stage.value;
    const stageStatus =
      sc.applied + sc.skipped + sc.cancelled === 0 && stageTotal > 0
        ? "failed"
        : "completed";
    const soak = (s.soakMinutes ?? 0) * 60_000;
    const finishedStage: Stage = {
      ...s,
      status: stageStatus,
      finishedAt: at,
      ...(s.soakMinutes !== undefined
        ? { soakUntil: new Date(now + soak).toISOString() }
        : {}),
      // The gate's first reading is now; the last decides at the soak's end.
      ...(s.gate && !actionDone ? { gate: { ...s.gate, nextAt: at } } : {}),
    };
    const events: WebhookEvent[] = [];
    if ((action.value.waves?.length ?? 0) > 1) {
      events.push(actionEvent("wave.completed", action.value, now, {
        scheduledAt: s.scheduledAt,
        counts: {
          total: sc.total,
          applied: sc.applied,
          skipped: sc.skipped + sc.cancelled,
          failed: sc.failed,
        },
        wave: index + 1,
      }));
    }
    let finished: ScheduledAction | null = null;
    if (actionDone && action.value.status === "running") {
      const status = c.applied + c.skipped === 0 ? "failed" : "completed";
      finished = { ...action.value, status, finishedAt: at, updatedAt: at };
      events.push(actionEvent(
        status === "failed" ? "action.failed" : "action.completed",
        finished,
        now,
        { scheduledAt: s.scheduledAt, counts: c },
      ));
    }
    const res = await commitRetrying(() => {
      const op = putStage(kv.atomic().check(action, stage), s, finishedStage);
      if (finished) op.set(keys.action(actionId), finished);
      for (const e of events) addWebhookEvent(op, e);
      return op;
    });
    if (res.ok) return;
  }
}
