/**
 * DESIGN rule 2: the claim checks the versionstamps of the row and
 * of its target, stage AND action. Each parent is moved on its own between
 * the sweep's read and its claim commit; the claim must lose every time and
 * the notice never go out.
 */
import assert from "node:assert/strict";

import { sweep } from "@/lib/notices/sweep.ts";

import { keys } from "@/lib/kv/keys.ts";
import type {
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "@/lib/types.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { clock, HOUR, scheduleForOwners } from "../helpers/scheduling.ts";

/** The real KV, except that `before` runs once just ahead of the first commit setting a row to `sending`. */
function beforeClaim(kv: Deno.Kv, before: () => Promise<void>): Deno.Kv {
  let done = false;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          let claims = false;
          const set = op.set.bind(op);
          op.set = (key, value, options) => {
            if (
              key[0] === "notifications" &&
              (value as Notification)?.status === "sending"
            ) claims = true;
            set(key, value, options);
            return op;
          };
          const commit = op.commit.bind(op);
          op.commit = async () => {
            if (claims && !done) {
              done = true;
              await before();
            }
            return commit();
          };
          return op;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

type Parent = "target" | "stage" | "action";

for (const parent of ["target", "stage", "action"] as Parent[]) {
  Deno.test(`a claim loses when only the ${parent} moved on after the sweep read it`, async () => {
    const kv = await Deno.openKv(":memory:");
    try {
      const start = clock().now();
      const { c, instances: [inst], actionId } = await scheduleForOwners(
        kv,
        1,
        {
          scheduledAt: new Date(start + 2 * HOUR).toISOString(),
          noticeLeadHours: 1,
          noticeChannels: ["email"],
        },
      );
      c.advance(HOUR);
      const lock = (await kv.get<{ targetId: string }>(
        keys.instancePendingTarget(inst.id),
      )).value!;
      const moveOn = async () => {
        if (parent === "target") {
          const t = (await kv.get<Target>(keys.target(lock.targetId))).value!;
          await kv.set(keys.target(t.id), { ...t, status: "skipped" });
        } else if (parent === "stage") {
          const s = (await kv.get<Stage>(keys.stage(actionId, 0))).value!;
          await kv.set(keys.stage(actionId, 0), { ...s, status: "failed" });
        } else {
          const a = (await kv.get<ScheduledAction>(keys.action(actionId)))
            .value!;
          await kv.set(keys.action(actionId), { ...a, status: "failed" });
        }
      };
      const d = recordingDispatchers();
      const run = await sweep({
        kv: beforeClaim(kv, moveOn),
        dispatchers: d,
        now: c.now,
      });
      assert.equal(d.email.calls.length, 0, "the notice went out anyway");
      assert.equal(run.sent, 0);
      assert.equal(run.voidedStale, 1);
    } finally {
      kv.close();
    }
  });
}
