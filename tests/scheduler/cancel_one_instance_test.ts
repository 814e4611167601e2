/**
 * Cancelling one instance of an action of several: the others go ahead
 * untouched, and that instance's owner hears of the cancel exactly once on
 * every channel that warned them (email through the Resend stand-in, push
 * through the Expo stand-in, the banner). Driven through the routes and the
 * real sweep.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import { startExpoFake } from "../fakes/expo_server.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { readTargetRows } from "@/lib/notices/rows.ts";
import { createSession, SESSION_COOKIE } from "@/lib/auth/sessions.ts";
import type { Notification } from "@/lib/types.ts";

const HOUR = 3_600_000;

Deno.test("cancelling one instance leaves the others alone and tells its owner once per channel that warned them", async () => {
  const resend = await startResendFake();
  const expo = await startExpoFake();
  const app = await createTestApp({
    config: {
      resendApiKey: resend.apiKey,
      resendBaseUrl: resend.url,
      expoBaseUrl: expo.url,
      pushViaExpo: true,
    },
  });
  try {
    await seedCatalog(app.kv);
    const run = crypto.randomUUID().slice(0, 6);
    const maya = `maya-${run}`;
    const tom = `tom-${run}`;
    const bots: Record<string, string> = {};
    for (
      const [owner, names] of [[maya, ["A", "B", "C"]], [tom, ["D"]]] as const
    ) {
      await apiOk(app, "PUT", `/api/admin/users/${owner}`, {
        email: `${owner}@example.test`,
      });
      await addPushToken(app.kv, owner, `ExponentPushToken[${owner}-phone]`);
      for (const name of names) {
        bots[name] = `${owner}-bot-${name}`;
        await apiOk(app, "PUT", `/api/admin/instances/${bots[name]}`, {
          name: `Bot ${name}`,
          ownerId: owner,
          imageTag: "v1",
        });
      }
    }
    const created = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: Object.values(bots),
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeChannels: ["email", "mobile_push", "webapp"],
    });
    const warned = await apiOk(app, "POST", "/api/admin/notices/sweep");
    assert.equal(warned.sent, 12);
    assert.equal(resend.delivered.length, 2);
    assert.equal(expo.messages.length, 2);

    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${created.id}?targetLimit=500`,
    );
    const targetOf = new Map<string, string>(
      detail.targets.items.map((
        t: { target: { id: string; instanceId: string } },
      ) => [t.target.instanceId, t.target.id]),
    );
    const rowsBefore = new Map<string, Notification[]>();
    for (const name of ["B", "C", "D"]) {
      const tid = targetOf.get(bots[name])!;
      rowsBefore.set(
        name,
        (await readTargetRows(app.kv, tid)).map((e) => e.value),
      );
    }

    await apiOk(
      app,
      "POST",
      `/api/admin/scheduled-actions/${created.id}/targets/${
        targetOf.get(bots.A)
      }/cancel`,
      { reason: "Maya asked to keep Bot A running" },
    );
    // Two sweeps: nothing is told twice.
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    await apiOk(app, "POST", "/api/admin/notices/sweep");

    // Maya hears of the cancel once by email, naming Bot A only.
    const mayaMail = resend.delivered.filter((d) =>
      d.to.includes(`${maya}@example.test`)
    );
    assert.equal(mayaMail.length, 2);
    const cancelMail = mayaMail[1];
    assert.match(cancelMail.subject, /cancel/i);
    assert.match(cancelMail.text, /Bot A/);
    assert.doesNotMatch(cancelMail.text, /Bot B|Bot C/);
    // Once by push.
    const mayaPush = expo.messages.filter((m) =>
      m.to === `ExponentPushToken[${maya}-phone]`
    );
    assert.deepEqual(mayaPush.map((m) => m.data?.event), [
      "scheduled_restart_notice",
      "scheduled_restart_cancelled",
    ]);
    assert.equal(mayaPush[1].data?.instanceId, bots.A);
    // And on the banner: one cancelled row per channel, each sent.
    const rowsA = (await readTargetRows(app.kv, targetOf.get(bots.A)!)).map((
      e,
    ) => e.value);
    assert.deepEqual(
      rowsA.filter((r) => r.kind === "cancelled").map((r) => [
        r.channel,
        r.status,
      ]).sort(),
      [["email", "sent"], ["mobile_push", "sent"], ["webapp", "sent"]],
    );
    // Tom heard nothing more.
    assert.equal(
      resend.delivered.filter((d) => d.to.includes(`${tom}@example.test`))
        .length,
      1,
    );
    assert.equal(
      expo.messages.filter((m) => m.to === `ExponentPushToken[${tom}-phone]`)
        .length,
      1,
    );

    // The other instances go ahead as before: pending, their rows unchanged.
    const after = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${created.id}?targetLimit=500`,
    );
    assert.equal(after.action.status, "scheduled");
    for (const t of after.targets.items) {
      const expected = t.target.instanceId === bots.A ? "skipped" : "pending";
      assert.equal(t.target.status, expected, t.target.instanceId);
    }
    for (const name of ["B", "C", "D"]) {
      const now = (await readTargetRows(app.kv, targetOf.get(bots[name])!))
        .map((e) => e.value);
      assert.deepEqual(now, rowsBefore.get(name), `rows of Bot ${name}`);
    }
    // Maya's workspace: Bot B still shows the restart, Bot A no longer does.
    const { id: sessionId } = await createSession(app.kv, maya);
    const status = async (bot: string) =>
      await (await app.request(`/api/instances/${bot}/status`, {
        headers: { cookie: `${SESSION_COOKIE}=${sessionId}`, origin: ORIGIN },
      })).json();
    assert.equal((await status(bots.A)).scheduledAction, null);
    assert.equal(
      (await status(bots.B)).scheduledAction.scheduledActionId,
      created.id,
    );
  } finally {
    await app.close();
    await resend.close();
    await expo.close();
  }
});
