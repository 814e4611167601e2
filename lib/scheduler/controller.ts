/**
 * How an action reaches an instance. `embedded` updates the instance record
 * in KV; `http` calls a fleet controller (see http_controller.ts).
 */
import type { Instance } from "../types.ts";

export type ControllerResult =
  | { ok: true }
  | { ok: false; transient: boolean; error: string };

export interface InstanceController {
  readonly name: string;
  restart(
    instance: Instance,
    opts: { actionId: string; targetId: string },
  ): Promise<ControllerResult>;
  changeVersion(
    instance: Instance,
    imageTag: string,
    opts: { actionId: string; targetId: string },
  ): Promise<ControllerResult>;
}
