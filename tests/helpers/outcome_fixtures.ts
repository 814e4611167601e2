/**
 * Actions whose targets are written and changed the way the scheduler does
 * (putTarget in checked commits), for the tests of the lists by outcome.
 */
import assert from "node:assert/strict";
import { makeAction, makeStage, makeTarget } from "./records.ts";
import { keys } from "@/lib/kv/keys.ts";
import { addToCounter, addToStageCounter } from "@/lib/kv/actions.ts";
import { putStage } from "@/lib/apply/stage_status.ts";
import {
  asEnded,
  asRunning,
  putTarget,
  type TargetEnd,
} from "@/lib/apply/target_status.ts";
import type { ScheduledAction, Target } from "@/lib/types.ts";

export const NOW = Date.parse("2031-03-01T09:00:00Z");

/**
 * An action of `n` pending targets written the way a schedule write leaves
 * them (putTarget in commits), its total counted; `legacy` writes them as
 * an older version did, without outcome keys.
 */
export async function seedAction(
  kv: Deno.Kv,
  n: number,
  opts: { legacy?: boolean } = {},
): Promise<{ action: ScheduledAction; targets: Target[] }> {
  const action = makeAction({ status: "running" }, NOW);
  const stage = makeStage(action, NOW + 3_600_000);
  // Ids in creation order, as the schedule write makes them.
  const targets = Array.from({ length: n }, (_, i) =>
    makeTarget(action, {
      instanceId: `inst-${action.id.slice(-6)}-${String(i).padStart(6, "0")}`,
      userId: "owner-1",
      sourceImageTag: "v1",
    }, { id: `${action.id}-t${String(i).padStart(6, "0")}` }));
  for (let i = 0; i < n; i += 100) {
    const op = kv.atomic();
    for (const t of targets.slice(i, i + 100)) {
      if (opts.legacy) {
        op.set(keys.target(t.id), t)
          .set(keys.targetByAction(t.actionId, t.id), null)
          .set(keys.targetByInstance(t.instanceId, t.id), null)
          .set(keys.instancePendingTarget(t.instanceId), {
            actionId: t.actionId,
            targetId: t.id,
          });
      } else putTarget(op, null, t);
    }
    assert.ok((await op.commit()).ok);
  }
  const op = kv.atomic().set(keys.action(action.id), action);
  putStage(op, null, stage);
  addToCounter(op, action.id, "total", n);
  addToStageCounter(op, stage, "total", n);
  assert.ok((await op.commit()).ok);
  return { action, targets };
}

/** Changes one target's record as the apply path does (putTarget, checked). */
export async function change(
  kv: Deno.Kv,
  t: Target,
  next: (t: Target) => Target | null,
): Promise<Target | null> {
  const cur = await kv.get<Target>(keys.target(t.id));
  assert.ok(cur.value, `target ${t.id} exists`);
  const after = next(cur.value);
  const res = await putTarget(kv.atomic().check(cur), cur.value, after)
    .commit();
  assert.ok(res.ok);
  return after;
}

export const end = (how: TargetEnd) => (t: Target) =>
  asEnded(asRunning(t, NOW), how, NOW);
export const FAILED: TargetEnd = {
  status: "failed",
  error: "controller said no",
};
export const APPLIED: TargetEnd = { status: "applied" };
export const CANCELLED: TargetEnd = { status: "skipped", reason: "cancelled" };
export const PINNED: TargetEnd = { status: "skipped", reason: "pinned" };

/** Ends the targets at these positions; returns them ended. */
export async function endSome(
  kv: Deno.Kv,
  targets: Target[],
  at: number[],
  how: TargetEnd,
): Promise<Target[]> {
  const out: Target[] = [];
  for (const i of at) {
    // A running target ends from running: the claim first, then the end.
    const running = await change(kv, targets[i], (t) => asRunning(t, NOW));
    out.push((await change(kv, running!, (t) => asEnded(t, how, NOW)))!);
  }
  return out;
}
