/**
 * What the apply does to one instance, and what the controller's answer makes
 * of the target: pure functions of the records, no I/O.
 */
import { isPinnedAway } from "../types.ts";
import type {
  Instance,
  ScheduledAction,
  SkipReason,
  Target,
} from "../types.ts";
import type { TargetEnd } from "./target_status.ts";
import type { ControllerCallOptions, ControllerResult } from "./controller.ts";

/** Claims per target before a transient failure (or a lost applier) becomes final. */
export const MAX_APPLY_ATTEMPTS = 3;

export type Decision =
  | { call: "none"; end: { status: "skipped"; reason: SkipReason } }
  | { call: "restart"; opts: ControllerCallOptions }
  | { call: "changeVersion"; imageTag: string; opts: ControllerCallOptions };

/** The change a claimed target gets: skipped outright, or a controller call with its guards. */
export function decide(
  instance: Instance | null,
  action: ScheduledAction,
  target: Target,
): Decision {
  if (!instance || instance.status === "destroyed") {
    return { call: "none", end: { status: "skipped", reason: "destroyed" } };
  }
  const base = { actionId: action.id, targetId: target.id };
  if (action.actionType !== "version_change") {
    return { call: "restart", opts: base };
  }
  if (!action.overridePins) {
    if (isPinnedAway(instance, target.targetImageTag)) {
      return { call: "none", end: { status: "skipped", reason: "pinned" } };
    }
    return {
      call: "changeVersion",
      imageTag: target.targetImageTag,
      opts: { ...base, expectedPinnedImageTag: instance.pinnedImageTag },
    };
  }
  // Overriding pins removes the pin, only if it is the one seen when the
  // action was scheduled (else pin_changed_in_flight).
  return {
    call: "changeVersion",
    imageTag: target.targetImageTag,
    opts: {
      ...base,
      removePin: true,
      expectedPinnedImageTag: target.sourcePinnedImageTag === undefined
        ? instance.pinnedImageTag
        : target.sourcePinnedImageTag,
    },
  };
}

/** What an answer makes of a target: its end, or another try later. */
export type ApplyOutcome = TargetEnd | { status: "retry"; error: string };

/** The controller's answer as the target's end, or another try when it was transient. */
export function judgeResult(
  res: ControllerResult,
  attempts: number,
): ApplyOutcome {
  if (res.ok) return { status: "applied" };
  if (res.skipReason) return { status: "skipped", reason: res.skipReason };
  if (res.transient && attempts < MAX_APPLY_ATTEMPTS) {
    return { status: "retry", error: res.error };
  }
  return { status: "failed", error: res.error };
}
