/**
 * With a zero lead, the notice and the change fall due together. A notice
 * being delivered when the apply comes round goes out first; the change waits
 * for it, so no user is told about something that already happened.
 */
import assert from "node:assert/strict";

import { applyDue } from "../../lib/scheduler/apply.ts";
import { embeddedController } from "../../lib/scheduler/embedded_controller.ts";
import { getActionDetail } from "../../lib/scheduler/read.ts";
import { getInstance } from "../../lib/kv/instances.ts";

import { sweep } from "../../lib/notices/sweep.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { HOUR, scheduleForOwners } from "./helpers.ts";

Deno.test("apply waits for a notice that is being delivered, then changes the instance", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { c, instances: [instance], actionId } = await scheduleForOwners(
      kv,
      1,
      { noticeLeadHours: 0, noticeChannels: ["email"] },
    );
    c.advance(HOUR); // the notice and the change are both due now
    const controller = embeddedController(kv, c.now);
    const events: string[] = [];
    const d = recordingDispatchers();
    let duringDispatch: Awaited<ReturnType<typeof applyDue>> | null = null;
    d.email.beforeAnswer = async () => {
      // The minute's apply runs while the email is on its way.
      duringDispatch = await applyDue({ kv, controller, now: c.now });
      events.push(
        `apply during dispatch: imageTag ${
          (await getInstance(kv, instance.id))!.imageTag
        }`,
      );
    };
    await sweep({ kv, dispatchers: d, now: c.now });
    events.push("notice sent");
    assert.equal(duringDispatch!.applied, 0, "the change waited");
    const [target] = (await getActionDetail(kv, actionId)).targets.items;
    assert.equal(target.target.status, "pending");
    assert.equal(target.notifications[0].status, "sent");

    const next = await applyDue({ kv, controller, now: c.now });
    events.push(
      `next apply: imageTag ${(await getInstance(kv, instance.id))!.imageTag}`,
    );
    assert.equal(next.applied, 1);
    assert.deepEqual(events, [
      "apply during dispatch: imageTag v1",
      "notice sent",
      "next apply: imageTag v2",
    ]);
    assert.equal(
      (await getActionDetail(kv, actionId)).action.status,
      "completed",
    );
  } finally {
    kv.close();
  }
});
