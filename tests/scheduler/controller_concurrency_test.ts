import { allHealthy } from "../helpers/scheduling.ts";
/**
 * `CONTROLLER_CONCURRENCY`: the minute apply keeps exactly that many
 * controller calls in flight (never more, across all its batches), and a
 * bad value stops the start with a message naming it.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { HOUR, MINUTE, seedAction } from "../helpers/notice_fixtures.ts";
import { ConfigError, parseConfig } from "@/lib/config.ts";
import { runApplyJob } from "@/lib/jobs.ts";
import { getTargetEntries, listTargetIdsOfAction } from "@/lib/kv/actions.ts";
import type { InstanceController } from "@/lib/apply/controller.ts";

Deno.test("config: CONTROLLER_CONCURRENCY defaults to 8 and takes a whole number from 1 to 256", () => {
  assert.equal(parseConfig({}).controllerConcurrency, 8);
  assert.equal(
    parseConfig({ CONTROLLER_CONCURRENCY: "24" }).controllerConcurrency,
    24,
  );
  for (const bad of ["0", "-1", "2.5", "many", "257"]) {
    assert.throws(
      () => parseConfig({ CONTROLLER_CONCURRENCY: bad }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) =>
          p.startsWith("CONTROLLER_CONCURRENCY:") &&
          p.includes("whole number from 1 to 256") && p.includes(`"${bad}"`)
        ),
      bad,
    );
  }
});

for (const width of [1, 3, 8]) {
  Deno.test(`the apply keeps CONTROLLER_CONCURRENCY=${width} controller calls in flight, never more`, async () => {
    let inFlight = 0;
    let most = 0;
    const calls: string[] = [];
    const call = async (id: string) => {
      calls.push(id);
      most = Math.max(most, ++inFlight);
      // Long enough that every lane has its calls waiting at once.
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { ok: true as const };
    };
    const controller: InstanceController = {
      name: "counting",
      health: allHealthy,
      restart: (i) => call(i.id),
      changeVersion: (i) => call(i.id),
    };
    const app = await createTestApp({
      config: { controllerConcurrency: width },
      context: { controller },
    });
    try {
      const now = Date.now();
      const seeded = await seedAction(app.kv, {
        now: now - 2 * HOUR,
        scheduledAt: now - MINUTE,
        instances: 250,
        notify: false,
      });
      await runApplyJob(app.ctx);
      assert.equal(calls.length, 250, "every instance was called once");
      assert.equal(new Set(calls).size, 250);
      assert.equal(most, width);
      const { ids } = await listTargetIdsOfAction(app.kv, seeded.action.id);
      const targets = await getTargetEntries(app.kv, ids);
      assert.ok(targets.every((t) => t.value.status === "applied"));
    } finally {
      await app.close();
    }
  });
}
