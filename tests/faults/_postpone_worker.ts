/**
 * An owner's postponing process for the fault tests: the app's
 * `postponeInstance` on a shared KV file, with a clock given on its command
 * line.
 *
 * It prints "phase commit <n>" as its n-th commit is about to be sent,
 * "phase committed <n>" or "phase lost <n>" once it is answered, and
 * "result <status> <json>" at the end (200 with the answer, or the error's
 * status and message). Told to stop at "commit:<n>" or "committed:<n>"
 * (several, comma-separated), it prints "stopped" there and waits, to be
 * killed with SIGKILL, or let go from its k-th stop when the test creates
 * the file `<release path>-<k>`.
 *
 *   deno run -A _postpone_worker.ts <kv path> <instance id> <owner id>
 *     <owner email> <now ms> <new time iso> <name:n,… | -> <release path>
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { AppError } from "@/lib/errors.ts";
import { postponeInstance } from "@/lib/scheduler/postpone.ts";
import { aroundCommits } from "../helpers/kv.ts";

setQuietLogs(true);
const [kvPath, instanceId, ownerId, email, nowArg, to, stopArg, release] =
  Deno.args;
const now = Number(nowArg);
const stops = stopArg === "-" ? [] : stopArg.split(",").map((s) => ({
  phase: s.split(":")[0],
  nth: Number(s.split(":")[1]),
}));
let stopped = 0;

async function released(k: number): Promise<boolean> {
  try {
    await Deno.stat(`${release}-${k}`);
    return true;
  } catch {
    return false;
  }
}

const counts = new Map<string, number>();
async function phase(name: string): Promise<void> {
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  console.log(`phase ${name} ${n}`);
  if (stops.some((s) => s.phase === name && s.nth === n)) {
    const k = ++stopped;
    console.log("stopped");
    // Nothing else runs in this process: waiting here is as if it hung
    // between two steps, holding nothing in KV.
    while (!(await released(k))) await new Promise((r) => setTimeout(r, 20));
  }
}

function observed(kv: Deno.Kv): Deno.Kv {
  return aroundCommits(kv, async (commit) => {
    await phase("commit");
    const res = await commit();
    await phase(res.ok ? "committed" : "lost");
    return res;
  });
}

const raw = await openKv(parseConfig({ KV_PATH: kvPath, DEMO_SEED: "false" }));
console.log("ready");
try {
  const res = await postponeInstance(
    { kv: observed(raw), now: () => now },
    instanceId,
    { id: ownerId, email },
    { scheduledAt: to },
  );
  console.log(`result 200 ${JSON.stringify(res)}`);
} catch (err) {
  if (!(err instanceof AppError)) throw err;
  console.log(`result ${err.status} ${JSON.stringify(err.message)}`);
}
raw.close();
console.log("done");
