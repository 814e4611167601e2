/**
 * The minute apply over a whole fleet: 10,000 due targets restarted with the
 * embedded controller, with notify on (three notice rows per target, which the
 * apply claim checks) and off. It must finish well inside its minute.
 */
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { applyDue } from "@/lib/apply/apply.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { testConfig } from "@/lib/config.ts";
import { input, seedCatalog, seedInstances } from "../helpers/scheduling.ts";

const COUNT = 10_000;
const HOUR = 3_600_000;

for (const notify of [false, true]) {
  Deno.bench({
    name: `apply 10,000 due restarts (notify ${
      notify ? "on" : "off"
    }, in-memory KV)`,
    n: 3,
    warmup: 0,
    async fn(b) {
      const kv = await Deno.openKv(":memory:");
      try {
        await seedCatalog(kv);
        const start = Date.now();
        let now = start;
        const ids = (await seedInstances(kv, COUNT)).map((i) => i.id);
        await scheduleAction(
          { kv, now: () => now, config: testConfig() },
          input(ids, now, { actionType: "scheduled_restart", notify }),
          { id: "bench" },
        );
        now = start + 2 * HOUR;
        b.start();
        const r = await applyDue({
          kv,
          controller: embeddedController(kv, () => now),
          now: () => now,
          concurrency: 16,
        });
        b.end();
        if (r.applied !== COUNT) {
          throw new Error(`applied ${r.applied} of ${COUNT}`);
        }
      } finally {
        kv.close();
      }
    },
  });
}
