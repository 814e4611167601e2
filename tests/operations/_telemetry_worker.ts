/**
 * The app's minute jobs in a process of their own, for telemetry_test.ts,
 * which starts it with Deno's telemetry on. On an in-memory KV: one action
 * whose notices (email and banner) are due, one whose time came before its
 * notices could go out; email through the real Resend SDK to a local
 * stand-in that answers 429, then 500, then works. Two sweeps ten minutes
 * apart, then the apply. Prints, as JSON, what the last sweep started from,
 * read straight from KV.
 */
import { firstDueKeys } from "@/lib/notices/due_index.ts";
import { parseConfig } from "@/lib/config.ts";
import { createAppContext } from "@/lib/app_context.ts";
import { runApplyJob, runSweepJob } from "@/lib/jobs.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import { HOUR, MINUTE, seedAction } from "../helpers/notice_fixtures.ts";

const fake = await startResendFake();
const kv = await Deno.openKv(":memory:");
let now = Date.now();
const config = parseConfig({
  KV_PATH: ":memory:",
  DEMO_SEED: "false",
  RESEND_API_KEY: fake.apiKey,
  RESEND_BASE_URL: fake.url,
});
const ctx = createAppContext(config, kv, () => now);

// Due two minutes ago: a one-hour notice for an action in 58 minutes.
await seedAction(kv, {
  now: now - HOUR,
  instances: 3,
  scheduledAt: now + 58 * MINUTE,
  leadHours: 1,
  channels: ["email", "webapp"],
});
// Its time came a minute ago: its notices (due 61 minutes ago) are too late.
await seedAction(kv, {
  now: now - 2 * HOUR,
  instances: 2,
  scheduledAt: now - MINUTE,
  leadHours: 1,
  channels: ["email"],
});

fake.failNext({ status: 429, headers: { "retry-after": "0" } }, {
  status: 500,
});
await runSweepJob(ctx);
now += 10 * MINUTE;
const due = (await firstDueKeys(kv, now, 10_000)).map((k) => k.dueAt);
await runSweepJob(ctx);
await runApplyJob(ctx);

console.log(
  `EXPECT ${
    JSON.stringify({
      dueAtLastSweep: due.length,
      lagAtLastSweepSeconds: (now - Math.min(...due)) / 1000,
      resendRequests: fake.requests.length,
    })
  }`,
);
kv.close();
await fake.close();
