/** Builds the running app's dependencies from configuration. */
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { createDispatchers, createEmailSender } from "./channels/mod.ts";
import { createController } from "./scheduler/create_controller.ts";

export function createAppContext(
  config: Config,
  kv: Deno.Kv,
  now: () => number = Date.now,
): AppContext {
  const email = createEmailSender(config, kv, now);
  return {
    config,
    kv,
    email,
    dispatchers: createDispatchers({ config, kv, email, now }),
    controller: createController(config, kv, now),
    now,
  };
}
