/**
 * A notice being delivered when the apply comes round goes out first: the
 * change waits for the notice's lease (at most one), so no user is told
 * about something that already happened. A notice whose action time has
 * come is never sent, and the apply does not wait for it.
 */
import assert from "node:assert/strict";

import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";
import { getInstance } from "@/lib/kv/instances.ts";

import { sweep } from "@/lib/notices/sweep.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { HOUR, scheduleForOwners } from "../helpers/scheduling.ts";

Deno.test("apply waits for the lease of a notice being delivered, then changes the instance", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { c, instances: [instance], actionId } = await scheduleForOwners(
      kv,
      1,
      { noticeLeadHours: 1, noticeChannels: ["email"] },
    );
    c.advance(HOUR - 1); // the notice went due an hour ago... just before the change
    const controller = embeddedController(kv, c.now);
    const events: string[] = [];
    const d = recordingDispatchers();
    let sweepDone!: () => void;
    const sweepFinished = new Promise<void>((r) => sweepDone = r);
    let waitedMs = 0;
    let applying: ReturnType<typeof applyTick> | null = null;
    let slept!: () => void;
    const applyWaits = new Promise<void>((r) => slept = r);
    d.email.beforeAnswer = async () => {
      // The change's time comes while the email is on its way.
      c.advance(1);
      applying = applyTick({
        kv,
        controller,
        now: c.now,
        sleep: async (ms) => {
          waitedMs = ms;
          events.push(
            `apply waits: imageTag ${
              (await getInstance(kv, instance.id))!.imageTag
            }`,
          );
          slept();
          await sweepFinished;
          c.advance(ms);
        },
      });
      // The answer comes once the apply decided: waiting, or (wrongly) done.
      await Promise.race([applyWaits, applying]);
    };
    await sweep({ kv, dispatchers: d, now: c.now }, { leaseMs: 60_000 });
    events.push("notice sent");
    sweepDone();
    const result = await applying!;
    events.push(
      `applied: imageTag ${(await getInstance(kv, instance.id))!.imageTag}`,
    );
    assert.equal(result.applied, 1);
    assert.ok(waitedMs > 0 && waitedMs <= 60_000 + 50, `waited ${waitedMs} ms`);
    assert.deepEqual(events, [
      "apply waits: imageTag v1",
      "notice sent",
      "applied: imageTag v2",
    ]);
    const detail = await getActionDetail(kv, actionId);
    assert.equal(detail.targets.items[0].notifications[0].status, "sent");
    assert.equal(detail.action.status, "completed");
  } finally {
    kv.close();
  }
});

Deno.test("a notice still unsent at its action time is too late: never sent, and the apply does not wait", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { c, instances: [instance], actionId } = await scheduleForOwners(
      kv,
      1,
      { noticeLeadHours: 1, noticeChannels: ["email"] },
    );
    c.advance(HOUR); // no sweep ran meanwhile: the notice and the change are both due now
    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: c.now });
    assert.equal(d.email.items.length, 0);
    assert.equal(run.voidedStale, 1);
    const [target] = (await getActionDetail(kv, actionId)).targets.items;
    assert.equal(target.notifications[0].status, "failed");
    assert.equal(
      target.notifications[0].error,
      "too late: the version change time passed before the notice could be sent",
    );
    const applied = await applyTick({
      kv,
      controller: embeddedController(kv, c.now),
      now: c.now,
      sleep: () => Promise.reject(new Error("the apply must not wait")),
    });
    assert.equal(applied.applied, 1);
    assert.equal((await getInstance(kv, instance.id))!.imageTag, "v2");
  } finally {
    kv.close();
  }
});
