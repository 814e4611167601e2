/**
 * Configuration: the only module that reads `Deno.env`. Every value is parsed
 * with zod; a bad value stops start-up with one message naming every problem.
 */
import { z } from "zod";

const bool = (fallback: boolean) =>
  z.preprocess(
    (v) => typeof v === "string" && v.trim() === "" ? undefined : v,
    z.stringbool({
      truthy: ["1", "true", "yes", "on"],
      falsy: ["0", "false", "no", "off"],
    }).optional(),
  ).transform((v) => v ?? fallback);

const optionalString = z.string().trim().optional().transform((v) =>
  v ? v : null
);
const optionalUrl = z.string().trim().optional().transform((v, ctx) => {
  if (!v) return null;
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    return v.replace(/\/+$/, "");
  } catch {
    ctx.addIssue({
      code: "custom",
      message: `expected an http(s) URL, got "${v}"`,
    });
    return z.NEVER;
  }
});
/**
 * The most instances one action takes: a whole image tag of a large fleet.
 * Above it the schedule answers 400. The bound keeps an action's background
 * write (about 1.3 million KV keys at this size) within a few minutes and its
 * compact plan (ids, owners, waves) within a few MB of the app's memory.
 */
export const MAX_TARGETS_PER_ACTION = 100_000;

const int = (fallback: number, min: number, max: number) =>
  z.string().trim().optional().transform((v, ctx) => {
    if (v === undefined || v === "") return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({
        code: "custom",
        message: `expected a whole number from ${min} to ${max}, got "${v}"`,
      });
      return z.NEVER;
    }
    return n;
  });
const number = (fallback: number, min: number, max: number) =>
  z.string().trim().optional().transform((v, ctx) => {
    if (v === undefined || v === "") return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      ctx.addIssue({
        code: "custom",
        message: `expected a number from ${min} to ${max}, got "${v}"`,
      });
      return z.NEVER;
    }
    return n;
  });
const secret = (name: string) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v === "") return null;
    if (v.length < 16) {
      ctx.addIssue({
        code: "custom",
        message: `${name} must be at least 16 characters`,
      });
      return z.NEVER;
    }
    return v;
  });

/** A KV Connect endpoint (Deno Deploy's KV from outside, or a self-hosted denokv). */
export function isKvConnectUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

const kvPath = z.string().trim().optional().transform((v, ctx) => {
  if (!v) return null;
  if (isKvConnectUrl(v)) {
    try {
      new URL(v);
    } catch {
      ctx.addIssue({
        code: "custom",
        message:
          `expected a file path, ":memory:" or a KV Connect URL, got "${v}"`,
      });
      return z.NEVER;
    }
  }
  return v;
});

const EnvSchema = z.object({
  PORT: int(8000, 1, 65535),
  KV_PATH: kvPath,
  // Read by Deno itself when KV_PATH is a KV Connect URL; checked here only for presence.
  DENO_KV_ACCESS_TOKEN: optionalString,
  PUBLIC_URL: optionalUrl,
  ADMIN_EMAILS: z.string().optional().transform((v, ctx) => {
    const list = (v ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(
      Boolean,
    );
    for (const e of list) {
      if (!z.email().safeParse(e).success) {
        ctx.addIssue({
          code: "custom",
          message: `"${e}" is not an email address`,
        });
      }
    }
    return list;
  }),
  ADMIN_API_TOKEN: secret("ADMIN_API_TOKEN"),
  INTERNAL_API_SECRET: secret("INTERNAL_API_SECRET"),
  RESEND_API_KEY: optionalString,
  RESEND_BASE_URL: optionalUrl,
  EMAIL_FROM: z.string().trim().optional().transform((v) =>
    v || "KiloClaw <notices@kiloclaw.local>"
  ),
  EMAIL_RATE_PER_SECOND: number(5, 0.1, 1000),
  NOTICE_LEASE_SECONDS: int(60, 1, 3600),
  HEALTH_MAX_SWEEP_LAG_SECONDS: int(300, 1, 7 * 24 * 3600),
  HEALTH_MAX_SWEEP_AGE_SECONDS: int(180, 60, 7 * 24 * 3600),
  EXPO_ACCESS_TOKEN: optionalString,
  EXPO_BASE_URL: optionalUrl,
  SCHEDULE_MIN_AHEAD_SECONDS: int(60, 0, 7 * 24 * 3600),
  ACTION_RETENTION_DAYS: int(400, 0, 36_500),
  MAX_CONNECTIONS: int(0, 0, 1_000_000),
  DEMO_SEED: z.string().optional(),
  CONTROLLER_URL: optionalUrl,
  CONTROLLER_SECRET: secret("CONTROLLER_SECRET"),
  EMBEDDED_CONTROLLER_UNHEALTHY_TAGS: z.string().optional().transform((v) =>
    (v ?? "").split(",").map((t) => t.trim()).filter(Boolean)
  ),
  CONTROLLER_CONCURRENCY: int(8, 1, 256),
  SCHEDULE_INLINE_TARGETS: int(10_000, 1, MAX_TARGETS_PER_ACTION),
  SIDE_EFFECTS_URL: optionalUrl,
  ALLOW_HTTP_WEBHOOKS: z.string().optional(),
  DENO_DEPLOYMENT_ID: optionalString,
});

export interface Config {
  port: number;
  /** A file, ":memory:" or a KV Connect URL; null means Deno's default KV (Deno Deploy). */
  kvPath: string | null;
  publicUrl: string;
  secureCookies: boolean;
  adminEmails: string[];
  adminApiToken: string | null;
  internalApiSecret: string | null;
  resendApiKey: string | null;
  resendBaseUrl: string | null;
  emailFrom: string;
  emailRatePerSecond: number;
  /** How long a sweep's claim holds its rows before recovery may take them (seconds). */
  noticeLeaseSeconds: number;
  /** `/healthz` fails when the oldest due notice has waited longer than this (seconds). */
  healthMaxSweepLagSeconds: number;
  /** `/healthz` fails when no sweep has finished for this long (seconds). */
  healthMaxSweepAgeSeconds: number;
  expoAccessToken: string | null;
  expoBaseUrl: string | null;
  /** true when push goes through Expo, false when it goes to the outbox. */
  pushViaExpo: boolean;
  scheduleMinAheadSeconds: number;
  /** Ended actions are removed with their targets and notices this many days after they ended (0: kept for good). */
  actionRetentionDays: number;
  /** Open connections at most when the app serves its own port; null: what the open-file limit allows. */
  maxConnections: number | null;
  demoSeed: boolean;
  controllerUrl: string | null;
  controllerSecret: string | null;
  /** Tags the embedded controller reports unhealthy: a bad build staged without a fleet. */
  embeddedUnhealthyTags: string[];
  /** Controller calls the apply keeps in flight at once. */
  controllerConcurrency: number;
  /**
   * An action of at most this many instances is written within the request
   * (201); a larger one answers 202 `preparing` and is written in the
   * background.
   */
  scheduleInlineTargets: number;
  sideEffectsUrl: string | null;
  /**
   * Webhook endpoints may use plain http to loopback and reach private
   * addresses: for local use only, never on a shared network.
   */
  allowHttpWebhooks: boolean;
  onDeploy: boolean;
  /** Deno Deploy's deployment id: a stable build id for asset URLs across isolates. */
  deploymentId: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Configuration is invalid:\n${
        problems.map((p) => `  - ${p}`).join("\n")
      }`,
    );
    this.name = "ConfigError";
  }
}

/** Parses an environment (a plain object, so tests need not touch Deno.env). */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) =>
        `${i.path.join(".") || "environment"}: ${i.message}`
      ),
    );
  }
  const e = parsed.data;
  const onDeploy = e.DENO_DEPLOYMENT_ID !== null;
  const demo = bool(!onDeploy).safeParse(e.DEMO_SEED);
  const problems: string[] = [];
  if (!demo.success) {
    problems.push(`DEMO_SEED: ${demo.error.issues[0].message}`);
  }
  const allowHttpWebhooks = bool(false).safeParse(e.ALLOW_HTTP_WEBHOOKS);
  if (!allowHttpWebhooks.success) {
    problems.push(
      `ALLOW_HTTP_WEBHOOKS: ${allowHttpWebhooks.error.issues[0].message}`,
    );
  }
  if (e.CONTROLLER_URL && !e.CONTROLLER_SECRET) {
    problems.push("CONTROLLER_SECRET: required when CONTROLLER_URL is set");
  }
  if (e.SIDE_EFFECTS_URL && !e.INTERNAL_API_SECRET) {
    problems.push("INTERNAL_API_SECRET: required when SIDE_EFFECTS_URL is set");
  }
  if (
    e.KV_PATH && isKvConnectUrl(e.KV_PATH) && !e.DENO_KV_ACCESS_TOKEN
  ) {
    problems.push(
      "DENO_KV_ACCESS_TOKEN: required when KV_PATH is a KV Connect URL",
    );
  }
  if (problems.length) throw new ConfigError(problems);
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  return {
    port: e.PORT,
    kvPath: e.KV_PATH ?? (onDeploy ? null : "./data/kiloclaw.sqlite3"),
    publicUrl,
    secureCookies: publicUrl.startsWith("https:"),
    adminEmails: e.ADMIN_EMAILS,
    adminApiToken: e.ADMIN_API_TOKEN,
    internalApiSecret: e.INTERNAL_API_SECRET,
    resendApiKey: e.RESEND_API_KEY,
    resendBaseUrl: e.RESEND_BASE_URL,
    emailFrom: e.EMAIL_FROM,
    emailRatePerSecond: e.EMAIL_RATE_PER_SECOND,
    noticeLeaseSeconds: e.NOTICE_LEASE_SECONDS,
    healthMaxSweepLagSeconds: e.HEALTH_MAX_SWEEP_LAG_SECONDS,
    healthMaxSweepAgeSeconds: e.HEALTH_MAX_SWEEP_AGE_SECONDS,
    expoAccessToken: e.EXPO_ACCESS_TOKEN,
    expoBaseUrl: e.EXPO_BASE_URL,
    pushViaExpo: Boolean(e.EXPO_ACCESS_TOKEN || e.EXPO_BASE_URL),
    scheduleMinAheadSeconds: e.SCHEDULE_MIN_AHEAD_SECONDS,
    actionRetentionDays: e.ACTION_RETENTION_DAYS,
    maxConnections: e.MAX_CONNECTIONS || null,
    demoSeed: demo.success ? demo.data : false,
    controllerUrl: e.CONTROLLER_URL,
    controllerSecret: e.CONTROLLER_SECRET,
    embeddedUnhealthyTags: e.EMBEDDED_CONTROLLER_UNHEALTHY_TAGS,
    controllerConcurrency: e.CONTROLLER_CONCURRENCY,
    scheduleInlineTargets: e.SCHEDULE_INLINE_TARGETS,
    sideEffectsUrl: e.SIDE_EFFECTS_URL,
    allowHttpWebhooks: allowHttpWebhooks.success && allowHttpWebhooks.data,
    onDeploy,
    deploymentId: e.DENO_DEPLOYMENT_ID,
  };
}

/** Reads the process environment. The one place that touches `Deno.env`. */
export function loadConfig(): Config {
  return parseConfig(Deno.env.toObject());
}

/** A configuration for tests: in-memory KV, no seed, outbox transports. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...parseConfig({ KV_PATH: ":memory:", DEMO_SEED: "false" }),
    ...overrides,
  };
}
