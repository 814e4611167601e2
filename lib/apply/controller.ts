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
}
