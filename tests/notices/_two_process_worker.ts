/**
 * One sweeping process for the two-process test: opens the shared KV file,
 * sweeps until nothing is left to do, prints its totals as JSON.
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { createAppContext } from "@/lib/app_context.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";

setQuietLogs(true);
const [kvPath, nowArg] = Deno.args;
const config = parseConfig({ KV_PATH: kvPath, DEMO_SEED: "false" });
const kv = await openKv(config);
const now = () => Number(nowArg);
const ctx = createAppContext(config, kv, now);
while (!(await Deno.stat(`${kvPath}.go`).then(() => true, () => false))) {
  await new Promise((r) => setTimeout(r, 5));
}
const totals = { processed: 0, sent: 0, failed: 0, runs: 0 };
let idle = 0;
while (idle < 3 && totals.runs < 200) {
  const r = await sweep(ctx, { pageSize: 50 });
  totals.runs++;
  totals.processed += r.processed;
  totals.sent += r.sent;
  totals.failed += r.failed;
  idle = r.processed === 0 ? idle + 1 : 0;
}
kv.close();
console.log(JSON.stringify(totals));
