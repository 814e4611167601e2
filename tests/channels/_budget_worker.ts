/**
 * One process of the shared-budget test: the app's own email sender (Resend
 * SDK, held to the budget kept in KV) on a KV Connect database, sending
 * `count` emails over `lanes` concurrent callers once told to go.
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { createEmailSender } from "@/lib/channels/mod.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";

setQuietLogs(true);
const [kvUrl, resendUrl, label, countArg, lanesArg] = Deno.args;
const config = parseConfig({
  KV_PATH: kvUrl,
  DEMO_SEED: "false",
  RESEND_API_KEY: "re_test_key",
  RESEND_BASE_URL: resendUrl,
  EMAIL_RATE_PER_SECOND: "5",
  DENO_KV_ACCESS_TOKEN: Deno.env.get("DENO_KV_ACCESS_TOKEN"),
});
const kv = await openKv(config);
const email = createEmailSender(config, kv);
console.log("ready");
// Both processes start together: wait for the test's word.
const reader = Deno.stdin.readable.getReader();
await reader.read();
reader.releaseLock();

const count = Number(countArg);
let next = 0;
let failed = 0;
const lane = async () => {
  while (next < count) {
    const i = next++;
    const res = await email.send({
      to: `${label}-${i}@example.test`,
      subject: "budget",
      html: "<p>budget</p>",
      text: "budget",
    }, { idempotencyKey: `${label}-${i}` });
    if (!res.ok) failed++;
  }
};
await Promise.all(Array.from({ length: Number(lanesArg) }, lane));
kv.close();
console.log(JSON.stringify({ failed }));
