/** Picks the controller from configuration: http when CONTROLLER_URL is set, embedded otherwise. */
import type { Config } from "../config.ts";
import type { InstanceController } from "./controller.ts";
import { embeddedController } from "./embedded_controller.ts";
import { httpController } from "./http_controller.ts";

export function createController(
  config: Pick<Config, "controllerUrl" | "controllerSecret"> & {
    embeddedUnhealthyTags?: string[];
  },
  kv: Deno.Kv,
  now: () => number = Date.now,
): InstanceController {
  if (config.controllerUrl) {
    if (!config.controllerSecret) {
      throw new Error(
        "CONTROLLER_SECRET is required when CONTROLLER_URL is set",
      );
    }
    return httpController({
      baseUrl: config.controllerUrl,
      secret: config.controllerSecret,
    });
  }
  return embeddedController(kv, now, config.embeddedUnhealthyTags ?? []);
}
