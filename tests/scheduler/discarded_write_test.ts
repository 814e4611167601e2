/**
 * A schedule whose write fails partway removes every notification row it
 * wrote with all of the row's keys — reminders' by-target keys, which carry
 * their lead, included — so nothing names the action that never appeared.
 */
import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { listActions } from "@/lib/views/action_reads.ts";
import {
  clock,
  countKeys,
  deps,
  faultyKv,
  HOUR,
  input,
  seedInstances,
} from "../helpers/scheduling.ts";

const admin = { id: "admin-1" };

Deno.test("a failed schedule with reminders leaves no notification key behind, whichever commit fails", async () => {
  let failedSome = false;
  for (let failAt = 2;; failAt++) {
    const kv = await Deno.openKv(":memory:");
    try {
      const c = clock();
      const inst = await seedInstances(kv, 3);
      const request = input(inst.map((i) => i.id), c.now(), {
        actionType: "scheduled_restart",
        scheduledAt: new Date(c.now() + 100 * HOUR).toISOString(),
        noticeLeadHours: 72,
        reminderLeadHours: [24, 2],
        noticeChannels: ["email", "mobile_push"],
      });
      const outcome = await scheduleAction(
        deps(faultyKv(kv, failAt), c.now),
        request,
        admin,
      ).then(() => "written", (err: Error) => err.message);
      if (outcome === "written") {
        // Past the last commit: the write went through, reminders and all.
        assert.ok(failedSome, "no commit of the write was made to fail");
        assert.ok(
          (await countKeys(kv, ["notifications_by_target"])) >= 3 * 2 * 2,
        );
        break;
      }
      failedSome = true;
      assert.match(outcome, /injected/);
      assert.equal((await listActions(kv)).items.length, 0);
      for (
        const prefix of [
          "notifications",
          "notifications_due",
          "notifications_by_target",
        ]
      ) {
        assert.equal(
          await countKeys(kv, [prefix]),
          0,
          `${prefix} left after commit ${failAt} failed`,
        );
      }
    } finally {
      kv.close();
    }
  }
});
