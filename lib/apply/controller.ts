/**
 * How an action reaches an instance. `embedded` updates the instance record
 * in KV; `http` calls a fleet controller (see http_controller.ts).
 */
import type { Instance, SkipReason } from "../types.ts";

export type ControllerResult =
  | { ok: true }
  | {
    ok: false;
    transient: boolean;
    error: string;
    /**
     * Set when the controller declined for a reason that is a skip, not a
     * failure: the instance is gone, or its pin moved after the apply path
     * checked it.
     */
    skipReason?: Extract<SkipReason, "destroyed" | "pin_changed_in_flight">;
  };

export interface ControllerCallOptions {
  actionId: string;
  targetId: string;
  /**
   * The pin the apply path saw when it decided the change may go ahead
   * (version changes that respect pins only). A different pin by the time the
   * change lands means it changed in flight.
   */
  expectedPinnedImageTag?: string | null;
  /**
   * A version change that overrides pins: the pin is removed with the tag
   * change, in the same write — only if it is still `expectedPinnedImageTag`.
   */
  removePin?: boolean;
}

/** What a controller says of a changed instance: the gate counts the unhealthy ones. */
export type InstanceHealth = "healthy" | "unhealthy" | "unknown";

/** Instances whose health one controller call reads at most. */
export const HEALTH_BATCH = 100;

export interface InstanceController {
  readonly name: string;
  restart(
    instance: Instance,
    opts: ControllerCallOptions,
  ): Promise<ControllerResult>;
  changeVersion(
    instance: Instance,
    imageTag: string,
    opts: ControllerCallOptions,
  ): Promise<ControllerResult>;
  /**
   * The health of each instance (at most HEALTH_BATCH per call); one the
   * controller could not judge, or did not name, is `unknown`. Never throws:
   * a controller that cannot be reached reports every instance `unknown`.
   */
  health(instanceIds: string[]): Promise<Record<string, InstanceHealth>>;
}
