/**
 * A large schedule's process for the fault tests: the app's `scheduleAction`
 * over every running instance of tag v1 on a shared KV file (a background
 * write, since the inline limit is low), then that write in the same
 * process, as the app runs it, with a clock given on its command line.
 *
 * It prints "phase committed <n>" once its n-th commit has landed and
 * "result <status>" at the end. Told to stop at commit <n>, it prints
 * "stopped" right after that commit landed and waits, to be killed with
 * SIGKILL.
 *
 *   deno run -A _prepare_worker.ts <kv path> <now ms> <inline limit> <n | ->
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { runPreparedWrite } from "@/lib/scheduler/prepare.ts";
import { aroundCommits } from "../helpers/kv.ts";

setQuietLogs(true);
const [kvPath, nowArg, inlineArg, stopArg] = Deno.args;
const now = Number(nowArg);
const stopAt = stopArg === "-" ? null : Number(stopArg);
let commits = 0;

function observed(kv: Deno.Kv): Deno.Kv {
  return aroundCommits(kv, async (commit) => {
    const res = await commit();
    if (res.ok) {
      const n = ++commits;
      console.log(`phase committed ${n}`);
      if (n === stopAt) {
        console.log("stopped");
        // Nothing else runs in this process until the SIGKILL.
        await new Promise(() => {});
      }
    }
    return res;
  });
}

const raw = await openKv(parseConfig({ KV_PATH: kvPath, DEMO_SEED: "false" }));
const kv = observed(raw);
const deps = { kv, now: () => now };
let write: Promise<string> | null = null;
const res = await scheduleAction(
  {
    ...deps,
    config: {
      scheduleMinAheadSeconds: 0,
      scheduleInlineTargets: Number(inlineArg),
    },
    startBackgroundWrite: (id, holder) => {
      write = runPreparedWrite(deps, id, holder);
    },
  },
  ScheduleInputSchema.parse({
    actionType: "scheduled_restart",
    selector: { imageTag: "v1" },
    scheduledAt: new Date(now + 3_600_000).toISOString(),
    noticeLeadHours: 4,
    noticeChannels: ["email", "webapp"],
  }),
  { id: "admin" },
);
console.log(`action ${res.id}`);
console.log(`result ${await write}`);
raw.close();
