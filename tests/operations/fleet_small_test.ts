/**
 * The `fleet100k` bench's path at a size a test can afford: a whole tag
 * scheduled through the API, drained by three sweeps at once against the
 * Resend and Expo stand-ins, applied by the minute apply. What the bench
 * reports as figures is asserted here as the product's promises.
 */
import assert from "node:assert/strict";
import { keys } from "@/lib/kv/keys.ts";
import { readNoticeCounts } from "@/lib/notices/counters.ts";
import { getStageCounts } from "@/lib/kv/actions.ts";
import type { ScheduledAction } from "@/lib/types.ts";
import { runFleet } from "../bench/fleet100k.ts";
import { assertCountersMatchRows } from "../helpers/counters.ts";

const SIZE = 3_000;
/** Below SIZE, so the action is written in the background as a whole tag of a large fleet is. */
const INLINE = 1_000;

Deno.test({
  name:
    "a tag of 3,000 instances written in the background: one email and one push per owner, every banner shown, every instance restarted once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const run = await runFleet({
      size: SIZE,
      config: { scheduleInlineTargets: INLINE },
    });
    try {
      const { app, actionId, figures, delivery } = run;
      assert.equal(run.owners, SIZE);
      assert.equal(run.scheduleStatus, 202, "written in the background");
      assert.ok(run.preparing.length > 0, "the answer says how far it got");
      assert.ok(
        // Once written, the answer keeps `{total, leftOut, writtenAt}`: all of it.
        run.preparing.map((p) => p.written ?? p.total).every((w, i, all) =>
          run.preparing[i].total === SIZE && w <= SIZE &&
          w >= (all[i - 1] ?? 0)
        ),
        `the write only goes forward: ${JSON.stringify(run.preparing)}`,
      );

      assert.deepEqual(delivery, {
        emailDupes: 0,
        pushDupes: 0,
        emailMissing: 0,
        pushMissing: 0,
        bannersNotSent: 0,
      });
      assert.equal(figures.dupes, 0);
      assert.equal(figures.missing, 0);

      const counts = await readNoticeCounts(app.kv, actionId);
      assert.deepEqual(
        counts.map((t) => [t.kind, t.channel, t.sent, t.pending, t.failed]),
        [
          ["notice", "email", SIZE, 0, 0],
          ["notice", "webapp", SIZE, 0, 0],
          ["notice", "mobile_push", SIZE, 0, 0],
        ],
        "every row sent",
      );
      assert.equal(
        counts.reduce((n, t) => n + t.notDelivered, 0),
        0,
        "every push reached its device",
      );
      await assertCountersMatchRows(app.kv, actionId, "the drain and apply");

      const action = await app.kv.get<ScheduledAction>(keys.action(actionId));
      assert.equal(action.value?.status, "completed");
      const stages = [...(await getStageCounts(app.kv, actionId)).values()];
      assert.equal(stages.reduce((n, c) => n + c.applied, 0), SIZE);
      assert.equal(run.restarts.size, SIZE, "every instance restarted");
      assert.deepEqual(
        [...run.restarts.values()].filter((n) => n !== 1),
        [],
        "no instance restarted twice",
      );

      const rows = 3 * SIZE;
      assert.ok(
        figures.claimsLost <= rows / 100,
        `${figures.claimsLost} claims lost of ${rows} rows`,
      );
      assert.equal(run.sent, rows, "each row sent by exactly one sweep");
    } finally {
      await run.close();
    }
  },
});
