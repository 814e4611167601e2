/**
 * DESIGN rules 7 and 8: a damaged row is failed on its own, once.
 * When the damage is in `dueAt` itself, the due key the sweep found it by must
 * go too, or every later sweep reads it again and counts it failed again.
 */
import assert from "node:assert/strict";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");

for (
  const [label, damaged] of [
    ["dueAt missing", { id: "n-1", status: "pending", kind: "notice" }],
    ["not an object", "garbage"],
    ["dueAt a string", {
      id: "n-1",
      status: "pending",
      kind: "notice",
      dueAt: String(NOW - 1000),
    }],
  ] as const
) {
  Deno.test(`a damaged row (${label}) is failed once and its due key removed`, async () => {
    const kv = await Deno.openKv(":memory:");
    try {
      const dueKey = keys.notificationDue(NOW - 1000, {
        id: "n-1",
        userId: "u-1",
      });
      await kv.atomic().set(keys.notification("n-1"), damaged)
        .set(dueKey, null).commit();
      const dispatchers = recordingDispatchers();
      const first = await sweep({ kv, dispatchers, now: () => NOW });
      assert.equal(first.failed, 1);
      assert.equal(first.processed, 1);
      const row = (await kv.get<{ status: string }>(keys.notification("n-1")))
        .value;
      assert.equal(row?.status, "failed");
      assert.equal(
        (await kv.get(dueKey)).versionstamp,
        null,
        "the due key of the damaged row is still there",
      );
      const second = await sweep({ kv, dispatchers, now: () => NOW + 60_000 });
      assert.equal(second.failed, 0, "the same damaged row failed again");
      assert.equal(second.processed, 0);
    } finally {
      kv.close();
    }
  });
}
