/**
 * The channel factories main.ts and the test app wire into the AppContext:
 * providers when configured, the embedded outbox otherwise.
 */
import type { Config } from "../config.ts";
import type { Dispatchers, EmailSender, PushTransport } from "./types.ts";
import { OutboxEmailSender, OutboxPushTransport } from "./outbox.ts";
import { RateLimitedEmailSender, ResendEmailSender } from "./resend.ts";
import { KvRateBudget } from "./rate_budget.ts";
import { createEmailDispatcher } from "./email.ts";
import { createSideEffectsEmailDispatcher } from "./side_effects.ts";
import { ExpoPushTransport } from "./expo.ts";
import {
  checkPushReceipts as checkReceipts,
  createPushDispatcher,
} from "./push.ts";
import { webappDispatcher } from "./webapp.ts";
import { TimedEmailSender, timedPushTransport } from "./timed.ts";

/** Resend when RESEND_API_KEY is set, held to one rate shared through KV by every process; the outbox otherwise. */
export function createEmailSender(
  config: Config,
  kv: Deno.Kv,
  now: () => number = Date.now,
): EmailSender {
  if (!config.resendApiKey) {
    return new TimedEmailSender(new OutboxEmailSender(kv, now));
  }
  return new RateLimitedEmailSender(
    new TimedEmailSender(
      new ResendEmailSender(
        config.resendApiKey,
        config.emailFrom,
        config.resendBaseUrl,
      ),
    ),
    // Pacing is about the provider's real clock, whatever clock the app runs on.
    new KvRateBudget(kv, "resend", config.emailRatePerSecond),
  );
}

// One Expo client per account and host, so the dispatchers and the receipts
// job share its connection pool and concurrency limit.
const expoTransports = new Map<string, PushTransport>();

/** Expo when EXPO_ACCESS_TOKEN or EXPO_BASE_URL is set; the outbox otherwise. */
export function createPushTransport(
  config: Config,
  kv: Deno.Kv,
  now: () => number = Date.now,
): PushTransport {
  if (!config.pushViaExpo) {
    return timedPushTransport(new OutboxPushTransport(kv, now));
  }
  const id = `${config.expoAccessToken ?? ""} ${config.expoBaseUrl ?? ""}`;
  let t = expoTransports.get(id);
  if (!t) {
    t = timedPushTransport(
      new ExpoPushTransport({
        accessToken: config.expoAccessToken,
        baseUrl: config.expoBaseUrl,
      }),
    );
    expoTransports.set(id, t);
  }
  return t;
}

export interface ChannelDeps {
  config: Config;
  kv: Deno.Kv;
  email: EmailSender;
  now: () => number;
  /** Tests pass their own; the configured transport otherwise. */
  push?: PushTransport;
}

/** The sweep's dispatchers. Email goes through SIDE_EFFECTS_URL's deployment when it is set. */
export function createDispatchers(deps: ChannelDeps): Dispatchers {
  const { config } = deps;
  const email = config.sideEffectsUrl && config.internalApiSecret
    ? createSideEffectsEmailDispatcher({
      url: config.sideEffectsUrl,
      secret: config.internalApiSecret,
    })
    : createEmailDispatcher({ email: deps.email, publicUrl: config.publicUrl });
  return {
    email,
    mobile_push: createPushDispatcher({
      kv: deps.kv,
      transport: deps.push ?? createPushTransport(config, deps.kv, deps.now),
      now: deps.now,
    }),
    webapp: webappDispatcher,
  };
}

/** For the receipts cron job (every few minutes): stale tokens removed about 15 minutes after sending. */
export function checkPushReceipts(
  deps: Omit<ChannelDeps, "email">,
): Promise<{ checked: number; removed: number }> {
  return checkReceipts({
    kv: deps.kv,
    now: deps.now,
    transport: deps.push ?? createPushTransport(deps.config, deps.kv, deps.now),
  });
}

export { getOutboxMessage, listOutbox } from "./outbox.ts";
export type { OutboxMessage } from "./outbox.ts";
