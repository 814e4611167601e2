import { allHealthy } from "../helpers/scheduling.ts";
/**
 * Done notices: after the apply, owners hear how it went on the channels the
 * admin picked, in plain words for every outcome; never for a cancelled target.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { applyTick } from "@/lib/jobs.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { cancelTarget } from "@/lib/scheduler/cancel_targets.ts";
import { updateInstance } from "@/lib/kv/instances.ts";
import { allTargetIdsOfAction, getTargetEntries } from "@/lib/kv/actions.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { HOUR, scheduleForOwners } from "../helpers/scheduling.ts";
import { getRow } from "../helpers/notice_fixtures.ts";
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { createTestApp } from "../helpers/app.ts";
import type { InstanceController } from "@/lib/apply/controller.ts";
import type { Notification } from "@/lib/types.ts";

async function doneRows(kv: Deno.Kv, targetId: string) {
  const out: Notification[] = [];
  for await (
    const e of kv.list<string>({ prefix: keys.notificationsByTarget(targetId) })
  ) {
    const row = await getRow(kv, e.value);
    if (row.kind === "done") out.push(row);
  }
  return out;
}

Deno.test("done notices: applied, pinned, failed each say what happened; a cancelled target gets none", () =>
  withKv(async (kv) => {
    const { c, instances, actionId } = await scheduleForOwners(kv, 4, {
      actionType: "version_change",
      imageTag: "v2",
      noticeChannels: ["webapp"],
      doneChannels: ["email", "mobile_push"],
    });
    const [applied, pinned, failing, cancelled] = instances;
    const ids = await allTargetIdsOfAction(kv, actionId);
    const targets = await getTargetEntries(kv, ids);
    const targetOf = (instanceId: string) =>
      targets.find((t) => t.value.instanceId === instanceId)!.value;
    await cancelTarget(
      { kv, now: c.now },
      actionId,
      targetOf(cancelled.id).id,
    );
    // Pinned after scheduling: the apply skips it.
    await updateInstance(
      kv,
      pinned.id,
      (i) => ({ ...i, pinnedImageTag: "v1" }),
    );
    const embedded = embeddedController(kv, c.now);
    const controller: InstanceController = {
      name: "test",
      health: allHealthy,
      restart: (i, o) => embedded.restart(i, o),
      changeVersion: (i, tag, o) =>
        i.id === failing.id
          ? Promise.resolve({
            ok: false,
            transient: false,
            error: "controller: disk full",
          })
          : embedded.changeVersion(i, tag, o),
    };
    const at = c.now() + HOUR;
    const result = await applyTick({ kv, controller, now: () => at });
    assert.deepEqual(
      [result.applied, result.skipped, result.failed],
      [1, 1, 1],
    );
    for (const inst of [applied, pinned, failing]) {
      const rows = await doneRows(kv, targetOf(inst.id).id);
      assert.deepEqual(rows.map((r) => r.channel).sort(), [
        "email",
        "mobile_push",
      ]);
      assert.ok(rows.every((r) => r.status === "pending" && r.dueAt === at));
    }
    assert.deepEqual(await doneRows(kv, targetOf(cancelled.id).id), []);

    const d = recordingDispatchers();
    const run = await sweep({ kv, dispatchers: d, now: () => at + 1000 });
    assert.equal(run.sent, 6);
    const emailFor = (instanceId: string) => {
      const item = d.email.items.find((i) =>
        i.notification.instanceId === instanceId
      )!;
      return renderNoticeEmail(item, "http://localhost:8000");
    };
    const ok = emailFor(applied.id);
    assert.equal(ok.subject, "KiloClaw: Version change done");
    assert.match(ok.text, /Your bot claw \d+ was upgraded to OpenClaw 2\.0\.0/);
    const skipped = emailFor(pinned.id);
    assert.equal(skipped.subject, "KiloClaw: Version change not done");
    assert.match(skipped.text, /was not upgraded: it is pinned/);
    const failed = emailFor(failing.id);
    assert.match(failed.text, /could not be upgraded; it runs as before/);
    assert.doesNotMatch(failed.text, /disk full/);
    const push = d.mobile_push.items.find((i) =>
      i.notification.instanceId === applied.id
    )!;
    assert.match(pushTexts(push).title, /was upgraded$/);
  }));

Deno.test("done notices are off unless asked for, and only email and push may be asked", async () => {
  await withKv(async (kv) => {
    const { c, actionId } = await scheduleForOwners(kv, 1, {
      actionType: "scheduled_restart",
    });
    await applyTick({
      kv,
      controller: embeddedController(kv, c.now),
      now: () => c.now() + HOUR,
    });
    const [id] = await allTargetIdsOfAction(kv, actionId);
    assert.deepEqual(await doneRows(kv, id), []);
  });
  const app = await createTestApp();
  try {
    const res = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ["x1"],
      scheduledAt: new Date(Date.now() + HOUR).toISOString(),
      doneChannels: ["webapp"],
    });
    const body = await res.json();
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(body.issues), /banner has no done notice/);
  } finally {
    await app.close();
  }
});
