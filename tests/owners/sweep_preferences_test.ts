/**
 * The sweep honours owners' preferences: a notice or reminder on a channel
 * the owner turned off is finalized unsent ("turned off by the owner"),
 * while cancellations and moves still reach every channel that carried the
 * warning; a push warning due inside quiet hours waits for their end, unless
 * that would leave less than an hour before the change. Real routes, the
 * real sweep, the Resend and Expo stand-ins, and a clock the test moves.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, type TestApp } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import { startExpoFake } from "../fakes/expo_server.ts";
import { clock, seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { readTargetRows } from "@/lib/notices/rows.ts";
import { keys } from "@/lib/kv/keys.ts";
import type { Notification, OwnerSettings } from "@/lib/types.ts";

const HOUR = 3_600_000;

async function setup(start: number) {
  const resend = await startResendFake();
  const expo = await startExpoFake();
  const c = clock(start);
  const app = await createTestApp({
    config: {
      resendApiKey: resend.apiKey,
      resendBaseUrl: resend.url,
      expoBaseUrl: expo.url,
      pushViaExpo: true,
    },
    context: { now: c.now },
  });
  await seedCatalog(app.kv);
  const close = async () => {
    await app.close();
    await resend.close();
    await expo.close();
  };
  return { resend, expo, c, app, close };
}

/** An owner with a phone and one bot; their settings as given. */
async function owner(
  app: TestApp,
  name: string,
  settings: Partial<OwnerSettings> = {},
): Promise<{ id: string; bot: string }> {
  const id = `${name}-${crypto.randomUUID().slice(0, 6)}`;
  await apiOk(app, "PUT", `/api/admin/users/${id}`, {
    email: `${id}@example.test`,
    name,
  });
  await addPushToken(app.kv, id, `ExponentPushToken[${id}-phone]`);
  await apiOk(app, "PUT", `/api/admin/users/${id}/settings`, {
    timeZone: "UTC",
    maintenanceWindow: null,
    channels: { email: true, mobile_push: true },
    quietHours: null,
    ...settings,
  });
  const bot = `${id}-bot`;
  await apiOk(app, "PUT", `/api/admin/instances/${bot}`, {
    name: `${name}'s bot`,
    ownerId: id,
    imageTag: "v1",
  });
  return { id, bot };
}

async function rowsOf(app: TestApp, actionId: string, bot: string) {
  const detail = await apiOk(
    app,
    "GET",
    `/api/admin/scheduled-actions/${actionId}?targetLimit=500`,
  );
  const t = detail.targets.items.find((
    i: { target: { instanceId: string } },
  ) => i.target.instanceId === bot);
  const rows = (await readTargetRows(app.kv, t.target.id)).map((e) => e.value);
  const find = (kind: Notification["kind"], channel: Notification["channel"]) =>
    rows.find((r) => r.kind === kind && r.channel === channel);
  return { rows, find };
}

Deno.test("a channel the owner turned off gets no warning, yet cancellations reach every channel that warned them", async () => {
  const s = await setup(Date.parse("2030-01-01T09:00:00Z"));
  try {
    const quiet = await owner(s.app, "Ines", {
      channels: { email: false, mobile_push: true },
    });
    const action = await apiOk(s.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [quiet.bot],
      scheduledAt: new Date(s.c.now() + 3 * HOUR).toISOString(),
      noticeChannels: ["email", "mobile_push", "webapp"],
    });
    const swept = await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    assert.equal(swept.failed, 0, JSON.stringify(swept));
    const { find } = await rowsOf(s.app, action.id, quiet.bot);
    const email = find("notice", "email")!;
    assert.equal(email.status, "failed");
    assert.equal(email.turnedOff, true);
    assert.match(email.error!, /^turned off by the owner/);
    assert.equal(find("notice", "mobile_push")!.status, "sent");
    assert.equal(find("notice", "webapp")!.status, "sent");
    assert.equal(s.resend.delivered.length, 0);
    assert.equal(s.expo.messages.length, 1);
    // No due key is left behind for the finalized row.
    const due = await s.app.kv.get(keys.notificationDue(email.dueAt, email));
    assert.equal(due.value, null);

    // The action page says so in words, not as an error.
    const admin = await s.app.signIn({ admin: true });
    const page = await s.app.request(`/admin/actions/${action.id}`, {
      headers: { cookie: admin.cookie },
    });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(
      html,
      /data-channel="email" data-kind="notice"[^]*?<span class="pill pill-no-device">turned off by the owner<\/span>/,
    );
    assert.doesNotMatch(html, /class="error small">turned off/);
    const instancePage = await s.app.request(`/admin/instances/${quiet.bot}`, {
      headers: { cookie: admin.cookie },
    });
    assert.match(
      await instancePage.text(),
      /<span class="pill pill-no-device">turned off by the owner<\/span>/,
    );
    const progress = await apiOk(
      s.app,
      "GET",
      `/api/admin/scheduled-actions/${action.id}/progress`,
    );
    const emailCount = progress.notices.channels.find((
      c: { kind: string; channel: string },
    ) => c.kind === "notice" && c.channel === "email");
    assert.deepEqual([emailCount.failed, emailCount.notDelivered], [0, 1]);

    await apiOk(
      s.app,
      "POST",
      `/api/admin/scheduled-actions/${action.id}/cancel`,
    );
    await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    const after = await rowsOf(s.app, action.id, quiet.bot);
    assert.equal(after.find("cancelled", "mobile_push")?.status, "sent");
    // Never warned by email: no cancellation by email either.
    assert.equal(after.find("cancelled", "email"), undefined);
    assert.equal(s.resend.delivered.length, 0);
    assert.equal(s.expo.messages.length, 2);
  } finally {
    await s.close();
  }
});

Deno.test("warned by email, then turned email off: the move and the cancellation still arrive by email", async () => {
  const s = await setup(Date.parse("2030-01-01T09:00:00Z"));
  try {
    const o = await owner(s.app, "Jonas");
    const action = await apiOk(s.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [o.bot],
      scheduledAt: new Date(s.c.now() + 3 * HOUR).toISOString(),
      noticeChannels: ["email", "mobile_push"],
      reminderLeadHours: [1],
    });
    await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    assert.equal(s.resend.delivered.length, 1);
    // The warning carried the one-click link; the owner turns email off.
    await apiOk(s.app, "PUT", `/api/admin/users/${o.id}/settings`, {
      timeZone: "UTC",
      maintenanceWindow: null,
      channels: { email: false, mobile_push: true },
      quietHours: null,
    });
    await apiOk(
      s.app,
      "POST",
      `/api/admin/scheduled-actions/${action.id}/reschedule`,
      { scheduledAt: new Date(s.c.now() + 5 * HOUR).toISOString() },
    );
    await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    const moved = await rowsOf(s.app, action.id, o.bot);
    assert.equal(moved.find("rescheduled", "email")?.status, "sent");
    assert.equal(s.resend.delivered.length, 2);
    assert.match(s.resend.delivered[1].subject, /moved|rescheduled/i);

    // The reminder, an hour before, is a warning: not by email any more.
    s.c.advance(4 * HOUR);
    await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    const reminded = await rowsOf(s.app, action.id, o.bot);
    assert.equal(reminded.find("reminder", "email")?.turnedOff, true);
    assert.equal(reminded.find("reminder", "mobile_push")?.status, "sent");
    assert.equal(s.resend.delivered.length, 2);

    await apiOk(
      s.app,
      "POST",
      `/api/admin/scheduled-actions/${action.id}/cancel`,
    );
    await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    const cancelled = await rowsOf(s.app, action.id, o.bot);
    assert.equal(cancelled.find("cancelled", "email")?.status, "sent");
    assert.equal(s.resend.delivered.length, 3);
  } finally {
    await s.close();
  }
});

Deno.test("quiet hours: a push warning waits for their end, and never makes a warning late", async (t) => {
  // 23:00 UTC: inside the owner's 22:00–07:00 quiet hours.
  const s = await setup(Date.parse("2030-01-01T23:00:00Z"));
  try {
    const o = await owner(s.app, "Kai", {
      quietHours: { start: "22:00", end: "07:00" },
    });
    const other = await owner(s.app, "Lea", {
      quietHours: { start: "22:00", end: "07:00" },
    });
    const quietEnd = Date.parse("2030-01-02T07:00:00Z");

    let waiting: { id: string } = { id: "" };
    await t.step(
      "due at 23:00 for a change at 12:00: held until 07:00",
      async () => {
        waiting = await apiOk(s.app, "POST", "/api/admin/scheduled-actions", {
          actionType: "scheduled_restart",
          instanceIds: [o.bot],
          scheduledAt: "2030-01-02T12:00:00Z",
          noticeChannels: ["mobile_push", "email"],
        });
        await apiOk(s.app, "POST", "/api/admin/notices/sweep");
        const { find } = await rowsOf(s.app, waiting.id, o.bot);
        const push = find("notice", "mobile_push")!;
        assert.equal(push.status, "pending");
        assert.equal(push.dueAt, quietEnd);
        assert.equal(push.quietUntil, "2030-01-02T07:00:00.000Z");
        // The due index follows the row (it moved through row_status.ts).
        assert.notEqual(
          (await s.app.kv.get(keys.notificationDue(quietEnd, push)))
            .versionstamp,
          null,
        );
        const progress = await apiOk(
          s.app,
          "GET",
          `/api/admin/scheduled-actions/${waiting.id}/progress`,
        );
        const line = progress.targets[0].notices.find((
          n: { channel: string },
        ) => n.channel === "mobile_push");
        assert.equal(line.quietHours, true);
        assert.equal(line.dueAt, "2030-01-02T07:00:00.000Z");
        // Email has no quiet hours.
        assert.equal(find("notice", "email")!.status, "sent");
        assert.equal(s.expo.messages.length, 0);
      },
    );

    await t.step("too close to the change to wait: sent at once", async () => {
      // Quiet hours end at 07:00, only 30 minutes before this change.
      const urgent = await apiOk(
        s.app,
        "POST",
        "/api/admin/scheduled-actions",
        {
          actionType: "scheduled_restart",
          instanceIds: [other.bot],
          scheduledAt: "2030-01-02T07:30:00Z",
          noticeChannels: ["mobile_push"],
        },
      );
      await apiOk(s.app, "POST", "/api/admin/notices/sweep");
      const { find } = await rowsOf(s.app, urgent.id, other.bot);
      assert.equal(find("notice", "mobile_push")!.status, "sent");
      assert.equal(find("notice", "mobile_push")!.quietUntil, undefined);
      assert.equal(s.expo.messages.length, 1);
    });

    await t.step(
      "still quiet at 06:59: nothing; at 07:00 it goes",
      async () => {
        s.c.set(quietEnd - 60_000);
        await apiOk(s.app, "POST", "/api/admin/notices/sweep");
        assert.equal(
          (await rowsOf(s.app, waiting.id, o.bot)).find(
            "notice",
            "mobile_push",
          )!
            .status,
          "pending",
        );
        s.c.set(quietEnd);
        await apiOk(s.app, "POST", "/api/admin/notices/sweep");
        const push = (await rowsOf(s.app, waiting.id, o.bot)).find(
          "notice",
          "mobile_push",
        )!;
        assert.equal(push.status, "sent");
        assert.equal(push.sentAt, "2030-01-02T07:00:00.000Z");
        assert.equal(s.expo.messages.length, 2);
      },
    );
  } finally {
    await s.close();
  }
});

Deno.test("many warnings turned off at once are finalized in a few commits, none left pending", async () => {
  const s = await setup(Date.parse("2030-01-01T09:00:00Z"));
  try {
    const o = await owner(s.app, "Mira", {
      channels: { email: false, mobile_push: true },
    });
    const bots = await seedInstances(s.app.kv, 120, { ownerId: o.id });
    const action = await apiOk(s.app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: bots.map((b) => b.id),
      scheduledAt: new Date(s.c.now() + 3 * HOUR).toISOString(),
      noticeChannels: ["email"],
    });
    const swept = await apiOk(s.app, "POST", "/api/admin/notices/sweep");
    assert.equal(swept.voidedStale, 120);
    assert.equal(s.resend.requests.length, 0);
    const progress = await apiOk(
      s.app,
      "GET",
      `/api/admin/scheduled-actions/${action.id}/progress`,
    );
    assert.deepEqual(progress.notices.channels, [{
      kind: "notice",
      channel: "email",
      sent: 0,
      notDelivered: 120,
      pending: 0,
      failed: 0,
    }]);
    let due = 0;
    for await (const _ of s.app.kv.list({ prefix: keys.notificationsDue() })) {
      due++;
    }
    assert.equal(due, 0);
  } finally {
    await s.close();
  }
});
