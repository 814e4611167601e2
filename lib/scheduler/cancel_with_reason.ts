/**
 * Cancelling with a record of who, when and why. The cancel itself is
 * cancel_targets.ts's; this keeps the admin's optional reason and name beside the
 * action (one record for the whole action, one per instance cancelled on its
 * own). Only the call whose commit cancelled the action (or instance) writes
 * its record and its audit entry, so among racing cancels the reason shown
 * and the reason audited are the same one, and a repeat changes nothing.
 */
import { nameAndEmail } from "../kv/users.ts";
import { keys } from "../kv/keys.ts";
import type { User } from "../types.ts";
import type { SignedInState } from "../request_state.ts";
import { auditCancelAction, auditCancelTarget } from "./audit.ts";
import type { Cancellation } from "../views/action_view_model.ts";

export type { Cancellation };
import {
  type CancelActionOutcome,
  type CancelActionResult,
  cancelActionTelling,
  type CancelDeps,
  type CancelTargetOutcome,
  type CancelTargetResult,
  cancelTargetTelling,
} from "./cancel_targets.ts";

/** When every instance was cancelled one by one, the action is called off with this reason. */
export const ALL_TARGETS_CANCELLED = "every instance was cancelled one by one";

type Actor = Pick<User, "id" | "email" | "name">;

async function record(
  kv: Deno.Kv,
  c: Cancellation,
): Promise<void> {
  const key = keys.cancellation(c.actionId, c.targetId);
  // First writer wins: a repeated or racing cancel keeps the original record.
  await kv.atomic().check({ key, versionstamp: null }).set(key, c).commit();
}

/** Cancels the whole action and records who did it, when and why. */
export async function cancelActionBy(
  deps: CancelDeps,
  actionId: string,
  actor: Actor,
  reason: string | null,
): Promise<CancelActionOutcome> {
  const outcome = await cancelActionTelling(deps, actionId);
  const { result } = outcome;
  if (outcome.cancelledFrom !== null) {
    await record(deps.kv, {
      actionId,
      targetId: null,
      byUserId: actor.id,
      byLabel: nameAndEmail(actor),
      at: result.action.cancelledAt ?? new Date(deps.now()).toISOString(),
      reason,
    });
  }
  return outcome;
}

/** Cancels one instance of an action and records who did it, when and why. */
export async function cancelTargetBy(
  deps: CancelDeps,
  actionId: string,
  targetId: string,
  actor: Actor,
  reason: string | null,
): Promise<CancelTargetOutcome> {
  const outcome = await cancelTargetTelling(deps, actionId, targetId);
  const { result } = outcome;
  const at = result.target.finishedAt ?? new Date(deps.now()).toISOString();
  if (outcome.changed) {
    await record(deps.kv, {
      actionId,
      targetId,
      byUserId: actor.id,
      byLabel: nameAndEmail(actor),
      at,
      reason,
    });
  }
  if (outcome.actionCancelled) {
    await record(deps.kv, {
      actionId,
      targetId: null,
      byUserId: actor.id,
      byLabel: nameAndEmail(actor),
      at: result.action.cancelledAt ?? at,
      reason: ALL_TARGETS_CANCELLED,
    });
  }
  return outcome;
}

/**
 * An admin cancels the whole action: the record the action page shows, and
 * the entry in the audit log.
 */
export async function cancelActionAsAdmin(
  deps: CancelDeps,
  state: SignedInState,
  actionId: string,
  reason: string | null,
): Promise<CancelActionResult> {
  const { result, cancelledFrom } = await cancelActionBy(
    deps,
    actionId,
    state.user,
    reason,
  );
  if (cancelledFrom !== null) {
    await auditCancelAction(deps, state, cancelledFrom, result.action, reason);
  }
  return result;
}

/** An admin cancels one instance of an action: its record, and the audit entry. */
export async function cancelTargetAsAdmin(
  deps: CancelDeps,
  state: SignedInState,
  actionId: string,
  targetId: string,
  reason: string | null,
): Promise<CancelTargetResult> {
  const { result, changed } = await cancelTargetBy(
    deps,
    actionId,
    targetId,
    state.user,
    reason,
  );
  if (changed) {
    await auditCancelTarget(deps, state, result.target, reason);
  }
  return result;
}

/** The action's cancellation records: the whole action first (if any), then instances. */
export async function listCancellations(
  kv: Deno.Kv,
  actionId: string,
): Promise<Cancellation[]> {
  const out: Cancellation[] = [];
  for await (
    const e of kv.list<Cancellation>({ prefix: keys.cancellations(actionId) })
  ) out.push(e.value);
  return out;
}
