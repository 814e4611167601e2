import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "@/lib/config.ts";

Deno.test("config: nothing set gives working local defaults", () => {
  const c = parseConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.kvPath, "./data/kiloclaw.sqlite3");
  assert.equal(c.publicUrl, "http://localhost:8000");
  assert.equal(c.secureCookies, false);
  assert.equal(c.demoSeed, true);
  assert.equal(c.resendApiKey, null);
  assert.equal(c.pushViaExpo, false);
  assert.equal(c.scheduleMinAheadSeconds, 60);
  assert.equal(c.emailRatePerSecond, 5);
  assert.equal(c.noticeLeaseSeconds, 60);
  assert.deepEqual(c.adminEmails, []);
});

Deno.test("config: Deno Deploy uses its own KV and no demo seed", () => {
  const c = parseConfig({ DENO_DEPLOYMENT_ID: "abc123" });
  assert.equal(c.kvPath, null);
  assert.equal(c.demoSeed, false);
});

Deno.test("config: values are parsed", () => {
  const c = parseConfig({
    PORT: "9001",
    KV_PATH: ":memory:",
    PUBLIC_URL: "https://claw.example.com/",
    ADMIN_EMAILS: " Ada@Example.com , bob@example.com",
    ADMIN_API_TOKEN: "0123456789abcdef0123",
    EXPO_BASE_URL: "http://127.0.0.1:9999",
    DEMO_SEED: "false",
    SCHEDULE_MIN_AHEAD_SECONDS: "0",
    NOTICE_LEASE_SECONDS: "120",
  });
  assert.equal(c.port, 9001);
  assert.equal(c.noticeLeaseSeconds, 120);
  assert.equal(c.kvPath, ":memory:");
  assert.equal(c.publicUrl, "https://claw.example.com");
  assert.equal(c.secureCookies, true);
  assert.deepEqual(c.adminEmails, ["ada@example.com", "bob@example.com"]);
  assert.equal(c.adminApiToken, "0123456789abcdef0123");
  assert.equal(c.pushViaExpo, true);
  assert.equal(c.demoSeed, false);
  assert.equal(c.scheduleMinAheadSeconds, 0);
});

Deno.test("config: one error names every bad value", () => {
  let err: unknown;
  try {
    parseConfig({
      PORT: "eighty",
      PUBLIC_URL: "ftp://nope",
      ADMIN_EMAILS: "not-an-email",
      ADMIN_API_TOKEN: "short",
      SCHEDULE_MIN_AHEAD_SECONDS: "-5",
      NOTICE_LEASE_SECONDS: "0",
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const text = err.message;
  for (
    const name of [
      "PORT",
      "PUBLIC_URL",
      "ADMIN_EMAILS",
      "ADMIN_API_TOKEN",
      "SCHEDULE_MIN_AHEAD_SECONDS",
      "NOTICE_LEASE_SECONDS",
    ]
  ) {
    assert.match(text, new RegExp(name), `message names ${name}: ${text}`);
  }
  assert.equal(err.problems.length, 6);
});

Deno.test("config: health limits have defaults and bounds", () => {
  const d = parseConfig({});
  assert.equal(d.healthMaxSweepLagSeconds, 300);
  assert.equal(d.healthMaxSweepAgeSeconds, 180);
  const c = parseConfig({
    HEALTH_MAX_SWEEP_LAG_SECONDS: "900",
    HEALTH_MAX_SWEEP_AGE_SECONDS: "600",
  });
  assert.equal(c.healthMaxSweepLagSeconds, 900);
  assert.equal(c.healthMaxSweepAgeSeconds, 600);
  // Below one cron period, a healthy app would fail between two sweeps.
  assert.throws(
    () => parseConfig({ HEALTH_MAX_SWEEP_AGE_SECONDS: "30" }),
    /HEALTH_MAX_SWEEP_AGE_SECONDS: expected a whole number from 60/,
  );
  assert.throws(
    () => parseConfig({ HEALTH_MAX_SWEEP_LAG_SECONDS: "soon" }),
    /HEALTH_MAX_SWEEP_LAG_SECONDS/,
  );
});

Deno.test("config: dependent settings are required together", () => {
  assert.throws(
    () => parseConfig({ CONTROLLER_URL: "http://127.0.0.1:1" }),
    /CONTROLLER_SECRET: required when CONTROLLER_URL is set/,
  );
  assert.throws(
    () => parseConfig({ SIDE_EFFECTS_URL: "http://127.0.0.1:1" }),
    /INTERNAL_API_SECRET: required when SIDE_EFFECTS_URL is set/,
  );
  assert.throws(() => parseConfig({ DEMO_SEED: "maybe" }), /DEMO_SEED/);
});

Deno.test("config: the start-up path prints the problems and exits 1", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "main.ts"],
    env: { PORT: "not-a-port", KV_PATH: ":memory:", DEMO_SEED: "false" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(stderr, /Configuration is invalid/);
  assert.match(
    stderr,
    /PORT: expected a whole number from 1 to 65535, got "not-a-port"/,
  );
});
