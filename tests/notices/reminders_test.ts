/**
 * Reminders after the notice: their own rows per channel, claimed and sent
 * like a notice, skipped rather than sent late, covered by cancel and move.
 */
import assert from "node:assert/strict";
import { withKv } from "../helpers/kv.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { testConfig } from "@/lib/config.ts";
import { recordingDispatchers } from "../helpers/dispatchers.ts";
import { HOUR, scheduleForOwners } from "../helpers/scheduling.ts";
import { cancelAction } from "@/lib/scheduler/cancel_targets.ts";
import { rescheduleAction } from "@/lib/scheduler/reschedule.ts";
import { getRow, MINUTE } from "../helpers/notice_fixtures.ts";
import {
  reminderLabel,
  renderNoticeEmail,
} from "@/lib/channels/email_render.ts";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { createTestApp } from "../helpers/app.ts";
import { REMINDER_SUPERSEDED } from "@/lib/notices/parents.ts";
import type { Notification } from "@/lib/types.ts";
import { allTargetIdsOfAction } from "@/lib/kv/actions.ts";

async function rowsOfAction(kv: Deno.Kv, actionId: string) {
  const out: Notification[] = [];
  for (const targetId of await allTargetIdsOfAction(kv, actionId)) {
    for await (
      const e of kv.list<string>({
        prefix: keys.notificationsByTarget(targetId),
      })
    ) out.push(await getRow(kv, e.value));
  }
  return out;
}

const reminders = { noticeLeadHours: 72, reminderLeadHours: [1, 24] };

Deno.test("a notice and two reminders, each sent on time on email and push; the email says which reminder it is", () =>
  withKv(async (kv) => {
    const { c, actionId } = await scheduleForOwners(kv, 2, {
      actionType: "scheduled_restart",
      scheduledAt: new Date(Date.parse("2030-01-01T00:00:00Z") + 100 * HOUR)
        .toISOString(),
      ...reminders,
    });
    const rows = await rowsOfAction(kv, actionId);
    const count = (kind: string) => rows.filter((r) => r.kind === kind).length;
    assert.equal(count("notice"), 6);
    // Two reminders × email and push × two owners; the banner needs none.
    assert.equal(count("reminder"), 8);
    assert.ok(
      rows.filter((r) => r.kind === "reminder").every((r) =>
        r.channel !== "webapp"
      ),
    );

    const d = recordingDispatchers();
    const at = (h: number) => () => c.now() + h * HOUR;
    assert.equal((await sweep({ kv, dispatchers: d, now: at(27) })).sent, 0);
    assert.equal((await sweep({ kv, dispatchers: d, now: at(28) })).sent, 6);
    assert.equal((await sweep({ kv, dispatchers: d, now: at(75) })).sent, 0);
    assert.equal((await sweep({ kv, dispatchers: d, now: at(76) })).sent, 4);
    const first = d.email.items.at(-1)!;
    assert.equal(first.notification.kind, "reminder");
    assert.equal(reminderLabel(first), "Reminder 1 of 2 (24 hours before)");
    const mail = renderNoticeEmail(first, "http://localhost:8000");
    assert.match(mail.subject, /^Reminder 1 of 2: /);
    assert.match(mail.text, /^Reminder 1 of 2 \(24 hours before\)/);
    assert.match(pushTexts(d.mobile_push.items.at(-1)!).title, /in 24 hours/);

    assert.equal((await sweep({ kv, dispatchers: d, now: at(99) })).sent, 4);
    const second = renderNoticeEmail(d.email.items.at(-1)!, "http://x");
    assert.match(second.subject, /^Reminder 2 of 2: /);
    assert.equal(d.email.items.length, 2 + 2 + 2);
  }));

Deno.test("a reminder whose window passed while the action was scheduled is skipped", () =>
  withKv(async (kv) => {
    // Ten hours ahead: the 24-hour reminder's time has already passed.
    const { actionId } = await scheduleForOwners(kv, 1, {
      actionType: "scheduled_restart",
      scheduledAt: new Date(Date.parse("2030-01-01T00:00:00Z") + 10 * HOUR)
        .toISOString(),
      noticeLeadHours: 72,
      reminderLeadHours: [24, 2],
    });
    const rows = await rowsOfAction(kv, actionId);
    assert.deepEqual(
      rows.filter((r) => r.kind === "reminder").map((r) => r.reminderLeadHours),
      [2, 2],
    );
  }));

Deno.test("both reminders due at once (the sweep was away): only the closer one goes out", () =>
  withKv(async (kv) => {
    const { c, actionId } = await scheduleForOwners(kv, 1, {
      actionType: "scheduled_restart",
      scheduledAt: new Date(Date.parse("2030-01-01T00:00:00Z") + 100 * HOUR)
        .toISOString(),
      noticeChannels: ["email"],
      ...reminders,
    });
    const d = recordingDispatchers();
    await sweep({ kv, dispatchers: d, now: () => c.now() + 28 * HOUR });
    const run = await sweep({
      kv,
      dispatchers: d,
      now: () => c.now() + 99 * HOUR + 30 * MINUTE,
    });
    assert.equal(run.sent, 1);
    assert.equal(d.email.items.at(-1)!.notification.reminderLeadHours, 1);
    const skipped = (await rowsOfAction(kv, actionId)).find((r) =>
      r.reminderLeadHours === 24
    )!;
    assert.equal(skipped.status, "failed");
    assert.equal(skipped.error, REMINDER_SUPERSEDED);
  }));

Deno.test("cancel racing a reminder in flight: the reminder's owner gets a cancellation; pending reminders fail", () =>
  withKv(async (kv) => {
    const { c, actionId } = await scheduleForOwners(kv, 1, {
      actionType: "scheduled_restart",
      scheduledAt: new Date(Date.parse("2030-01-01T00:00:00Z") + 100 * HOUR)
        .toISOString(),
      noticeChannels: ["email"],
      ...reminders,
    });
    const d = recordingDispatchers();
    // The notice failed for good, so only the reminder ever reached the owner.
    d.email.behaviour = () => ({ status: "failed", error: "bounced" });
    await sweep({ kv, dispatchers: d, now: () => c.now() + 28 * HOUR });
    d.email.behaviour = () => ({ status: "sent" });
    const at76 = c.now() + 76 * HOUR;
    d.email.beforeAnswer = async () => {
      d.email.beforeAnswer = null;
      await cancelAction({ kv, now: () => at76 }, actionId);
    };
    await sweep({ kv, dispatchers: d, now: () => at76 });
    const rows = await rowsOfAction(kv, actionId);
    const r24 = rows.find((r) => r.reminderLeadHours === 24)!;
    const r1 = rows.find((r) => r.reminderLeadHours === 1)!;
    assert.equal(r24.status, "sent");
    assert.equal(r1.status, "failed");
    const cancelled = rows.filter((r) => r.kind === "cancelled");
    assert.equal(cancelled.length, 1);
    const run = await sweep({ kv, dispatchers: d, now: () => at76 + MINUTE });
    assert.equal(run.sent, 1);
    assert.equal(d.email.items.at(-1)!.notification.kind, "cancelled");
    // Nothing else ever goes out.
    const later = await sweep({
      kv,
      dispatchers: d,
      now: () => c.now() + 99 * HOUR,
    });
    assert.equal(later.sent, 0);
  }));

Deno.test("a move covers reminders: pending ones follow the new time, one whose window passed at the new time is skipped", () =>
  withKv(async (kv) => {
    const { c, actionId } = await scheduleForOwners(kv, 1, {
      actionType: "scheduled_restart",
      scheduledAt: new Date(Date.parse("2030-01-01T00:00:00Z") + 100 * HOUR)
        .toISOString(),
      noticeChannels: ["email"],
      ...reminders,
    });
    const deps = {
      kv,
      now: c.now,
      config: testConfig({ scheduleMinAheadSeconds: 60 }),
    };
    // Moved to 12 hours from now: the 24-hour reminder can no longer be on time.
    const to = c.now() + 12 * HOUR;
    await rescheduleAction(deps, actionId, {
      scheduledAt: new Date(to).toISOString(),
      reason: null,
    });
    const rows = await rowsOfAction(kv, actionId);
    const r24 = rows.find((r) => r.reminderLeadHours === 24)!;
    const r1 = rows.find((r) => r.reminderLeadHours === 1)!;
    assert.equal(r24.status, "failed");
    assert.match(r24.error!, /skipped/);
    assert.equal(r1.status, "pending");
    assert.equal(r1.dueAt, to - HOUR);
    // A lead that would put the reminders before the notice is refused.
    await assert.rejects(
      () =>
        rescheduleAction(deps, actionId, {
          scheduledAt: new Date(to).toISOString(),
          noticeLeadHours: 1,
          reason: null,
        }),
      /reminder must come after the notice/,
    );
  }));

Deno.test("API: reminderLeadHours in the schedule body", async (t) => {
  const app = await createTestApp();
  try {
    const post = (extra: Record<string, unknown>) =>
      app.api("POST", "/api/admin/scheduled-actions", {
        actionType: "scheduled_restart",
        instanceIds: ["nobody-here"],
        scheduledAt: new Date(Date.now() + 100 * HOUR).toISOString(),
        ...extra,
      });
    for (
      const [name, extra] of [
        ["not smaller than the notice", {
          noticeLeadHours: 24,
          reminderLeadHours: [24],
        }],
        ["three reminders", {
          noticeLeadHours: 72,
          reminderLeadHours: [24, 2, 1],
        }],
        ["twice the same", { noticeLeadHours: 72, reminderLeadHours: [2, 2] }],
        ["not whole hours", {
          noticeLeadHours: 72,
          reminderLeadHours: [1.5],
        }],
        ["zero", { noticeLeadHours: 72, reminderLeadHours: [0] }],
      ] as const
    ) {
      await t.step(name, async () => {
        const res = await post(extra);
        const body = await res.json();
        assert.equal(res.status, 400);
        assert.ok(
          body.issues.some((i: { path: string }) =>
            i.path.startsWith("reminderLeadHours")
          ),
          JSON.stringify(body),
        );
      });
    }
  } finally {
    await app.close();
  }
});
