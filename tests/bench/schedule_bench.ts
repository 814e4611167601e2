/**
 * Scheduling 10,000 instances in one call, notify on with all three channels
 * (10,000 targets and 30,000 notification rows). Goal: ≤ 3 s median.
 * Every run gets a fresh KV (seeding is outside the measured part); the
 * median of the runs is printed at the end.
 */
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { testConfig } from "@/lib/config.ts";
import { input, seedCatalog, seedInstances } from "../helpers/scheduling.ts";

const COUNT = 10_000;
const actor = { id: "bench-admin" };
const timings: Record<string, number[]> = {};
const dir = await Deno.makeTempDir();

async function run(b: Deno.BenchContext, name: string, path: string) {
  const kv = await Deno.openKv(path);
  try {
    await seedCatalog(kv);
    const now = Date.now();
    const ids = (await seedInstances(kv, COUNT)).map((i) => i.id);
    const body = input(ids, now);
    b.start();
    const t0 = performance.now();
    const res = await scheduleAction(
      { kv, now: () => now, config: testConfig() },
      body,
      actor,
    );
    (timings[name] ??= []).push(performance.now() - t0);
    b.end();
    if (res.targets.total !== COUNT) {
      throw new Error("not every instance was scheduled");
    }
  } finally {
    kv.close();
  }
}

let fileRun = 0;
for (
  const [name, path] of [
    ["in-memory KV", () => ":memory:"],
    ["file KV", () => `${dir}/bench-${fileRun++}.sqlite3`],
  ] as const
) {
  Deno.bench({
    name: `schedule 10,000 instances, 3 channels (${name})`,
    n: 5,
    warmup: 1,
    async fn(b) {
      await run(b, name, path());
    },
  });
}

globalThis.addEventListener("unload", () => {
  for (const [name, list] of Object.entries(timings)) {
    const sorted = [...list].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `schedule 10,000 (${name}): median ${
        (median / 1000).toFixed(2)
      } s over ${list.length} runs (goal ≤ 3 s)`,
    );
  }
  Deno.removeSync(dir, { recursive: true });
});
