/**
 * The sweep's cost follows the rows due, not the rows stored (DESIGN rule 8),
 * and the throughput of a large due batch with instant dispatchers.
 *
 *   deno bench -A --no-check tests/bench/sweep_bench.ts
 */
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putUser } from "@/lib/kv/users.ts";
import { addNewRow, buildNoticeRows } from "@/lib/notices/rows.ts";
import { newId } from "@/lib/ids.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { makeAction, makeStage, makeTarget } from "../helpers/records.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");
const HOUR = 3_600_000;

/** One visible action with `targets` targets (one shared user), 3 channels each. */
async function seed(kv: Deno.Kv, targets: number, scheduledAt: number) {
  const userId = `u-${newId()}`;
  await putUser(kv, userId, { email: `${userId}@example.test` }, T0);
  const action = makeAction({ createdBy: "bench", noticeLeadHours: 1 }, T0);
  const stage = makeStage(action, scheduledAt);
  for (let i = 0; i < targets; i += 30) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(targets, i + 30); j++) {
      const t = makeTarget(action, {
        instanceId: `i-${newId()}`,
        userId,
        sourceImageTag: "v1",
      });
      op.set(keys.target(t.id), t);
      for (const row of buildNoticeRows(action, stage, t, T0)) {
        addNewRow(op, row);
      }
    }
    await op.commit();
  }
  await kv.atomic().set(keys.action(action.id), action)
    .set(keys.stage(action.id, 0), stage).commit();
}

const dueSoon = T0 + 30 * 60_000;
const farAway = T0 + 100 * 24 * HOUR;

const small = await Deno.openKv(":memory:");
const crowded = await Deno.openKv(":memory:");
// 20,001 rows stored in `crowded` that are not due for 99 days.
await seed(crowded, 6_667, farAway);

for (
  const [name, kv, group, baseline] of [
    ["100 due among 100 stored", small, "due-vs-stored", true],
    ["100 due among 20,000 stored", crowded, "due-vs-stored", false],
  ] as const
) {
  Deno.bench({
    name,
    group,
    baseline,
    n: 15,
    warmup: 2,
    async fn(b) {
      await seed(kv, 34, dueSoon); // 102 rows due
      const d = recordingDispatchers();
      b.start();
      const run = await sweep({ kv, dispatchers: d, now: () => T0 });
      b.end();
      if (run.sent !== 102) throw new Error(`sent ${run.sent}`);
    },
  });
}

Deno.bench({
  name: "3,000 rows due at once (1,000 targets × 3 channels)",
  group: "throughput",
  n: 3,
  warmup: 0,
  async fn(b) {
    const kv = await Deno.openKv(":memory:");
    await seed(kv, 1_000, dueSoon);
    const d = recordingDispatchers();
    b.start();
    const run = await sweep({ kv, dispatchers: d, now: () => T0 });
    b.end();
    kv.close();
    if (run.sent !== 3_000) throw new Error(`sent ${run.sent}`);
  },
});
