/**
 * The running app's dependencies: built once at start-up from configuration
 * (main.ts, `createAppContext`) or per test, and set with `setAppContext`.
 * Routes read them with `appContext()`; domain functions take what they need
 * as arguments so tests can pass their own.
 */
import type { Config } from "./config.ts";
import type { Dispatchers, EmailSender } from "./channels/types.ts";
import type { InstanceController } from "./apply/controller.ts";
import { createDispatchers, createEmailSender } from "./channels/mod.ts";
import { createController } from "./apply/create_controller.ts";

export interface AppContext {
  config: Config;
  kv: Deno.Kv;
  /** Sign-in emails and notices go through the same configured sender. */
  email: EmailSender;
  dispatchers: Dispatchers;
  controller: InstanceController;
  /** Wall clock in epoch ms; tests replace it. */
  now: () => number;
}

let current: AppContext | null = null;

export function setAppContext(ctx: AppContext | null): void {
  current = ctx;
}

export function appContext(): AppContext {
  if (!current) {
    throw new Error("app context is not set: call setAppContext() first");
  }
  return current;
}

/** The app's dependencies from configuration: one email sender for sign-in and notices. */
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
