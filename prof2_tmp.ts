import { scheduleFleet, seedFleet } from "@/tests/bench/fleet.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
setQuietLogs(true);
for (const mode of ["plain", "windows", "plain", "windows"]) {
  const kv = await Deno.openKv(":memory:");
  const ids = await seedFleet(kv, 10000, { prefix: "w", windows: true });
  const now = Date.now();
  const r = await scheduleFleet(kv, ids, { now, scheduledAt: now + 3 * 3600_000, leadHours: 4, ...(mode === "windows" ? { windowsUntil: now + 7 * 86400_000 } : {}) });
  console.log(mode, r.seconds.toFixed(2), r.stages);
  kv.close();
}
