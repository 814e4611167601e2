/**
 * `GET /api/instances/:id/status` says whether the owner may postpone the
 * change the banner shows, until when, how many times more, the earliest
 * time, the owner's next window starts to suggest first, and otherwise why
 * not: urgent, limit reached, within the last hour.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { putOwnerSettings } from "@/lib/owners/settings.ts";

const MONDAY = Date.parse("2030-01-07T00:00:00Z");

async function ownerWithInstance(app: TestApp) {
  const { user, cookie } = await app.signIn({ timeZone: "Asia/Kolkata" });
  await putOwnerSettings(app.kv, user.id, {
    timeZone: "Asia/Kolkata",
    maintenanceWindow: { days: ["tue", "thu"], startHour: 2, lengthHours: 3 },
    channels: { email: true, mobile_push: true },
    quietHours: null,
  }, app.ctx.now());
  await apiOk(app, "PUT", "/api/admin/catalog/2030.1.0", {
    openclawVersion: "1.0.0",
  });
  const instanceId = `bot-${crypto.randomUUID().slice(0, 8)}`;
  await apiOk(app, "PUT", `/api/admin/instances/${instanceId}`, {
    name: "Support bot",
    ownerId: user.id,
    imageTag: "2030.1.0",
  });
  return { user, cookie, instanceId };
}

Deno.test("status: the postpone offer, and each reason it is refused", async (t) => {
  let now = MONDAY;
  const app = await createTestApp({ context: { now: () => now } });
  try {
    const status = async (o: { cookie: string; instanceId: string }) => {
      const res = await app.request(`/api/instances/${o.instanceId}/status`, {
        headers: { cookie: o.cookie },
      });
      assert.equal(res.status, 200);
      return (await res.json()).postpone;
    };
    const schedule = (instanceId: string, extra: Record<string, unknown>) =>
      apiOk(app, "POST", "/api/admin/scheduled-actions", {
        actionType: "scheduled_restart",
        instanceIds: [instanceId],
        scheduledAt: "2030-01-07T12:00:00Z",
        noticeLeadHours: 24,
        noticeChannels: ["webapp"],
        ...extra,
      });

    await t.step(
      "allowed: until, left, earliest and the window starts in range",
      async () => {
        const o = await ownerWithInstance(app);
        const action = await schedule(o.instanceId, {
          ownerMayPostpone: { until: "2030-01-11T00:00:00Z", times: 2 },
        });
        assert.deepEqual(await status(o), {
          allowed: true,
          reason: null,
          scheduledAt: "2030-01-07T12:00:00.000Z",
          until: "2030-01-11T00:00:00.000Z",
          left: 2,
          earliest: "2030-01-07T12:01:00.000Z",
          // Tue and Thu 02:00 in Kolkata, before the limit.
          windowStarts: [
            "2030-01-07T20:30:00.000Z",
            "2030-01-09T20:30:00.000Z",
          ],
        });
        // Postponed twice: the limit is reached.
        for (const to of ["2030-01-07T20:30:00Z", "2030-01-09T20:30:00Z"]) {
          const res = await app.request(
            `/api/instances/${o.instanceId}/postpone`,
            {
              method: "POST",
              headers: {
                cookie: o.cookie,
                origin: ORIGIN,
                "content-type": "application/json",
              },
              body: JSON.stringify({ scheduledAt: to }),
            },
          );
          assert.equal(res.status, 200, await res.text());
        }
        // Its banner shows again from 24 h before the new time.
        now = Date.parse("2030-01-09T00:00:00Z");
        const after = await status(o);
        now = MONDAY;
        assert.equal(after.allowed, false);
        assert.equal(after.left, 0);
        assert.equal(after.scheduledAt, "2030-01-09T20:30:00.000Z");
        assert.match(after.reason, /already postponed 2 times/);

        // The admin's action page: one instance postponed, now on Thursday.
        const admin = await app.signIn({ admin: true });
        const page = await app.request(`/admin/actions/${action.id}`, {
          headers: { cookie: admin.cookie },
        });
        const html = (await page.text()).replace(/<!-- -->/g, "");
        assert.match(html, /1 instance was postponed by their owners, to:/);
        assert.match(
          html,
          /<time datetime="2030-01-09T20:30:00.000Z"[^>]*>[^<]+<\/time>(<!--[^>]*-->)?: 1 instance/,
        );
      },
    );

    await t.step("urgent: no postpone at all", async () => {
      const o = await ownerWithInstance(app);
      await schedule(o.instanceId, {});
      const offer = await status(o);
      assert.equal(offer.allowed, false);
      assert.match(offer.reason, /urgent/);
      assert.deepEqual(offer.windowStarts, []);
    });

    await t.step("within the last hour before the change", async () => {
      const o = await ownerWithInstance(app);
      await schedule(o.instanceId, {
        ownerMayPostpone: { until: "2030-01-11T00:00:00Z", times: 2 },
      });
      now = Date.parse("2030-01-07T11:30:00Z");
      const offer = await status(o);
      assert.equal(offer.allowed, false);
      assert.match(offer.reason, /less than an hour away/);
      now = MONDAY;
    });

    await t.step("nothing shown on the banner: no offer", async () => {
      const o = await ownerWithInstance(app);
      assert.equal(await status(o), null);
      await schedule(o.instanceId, {
        ownerMayPostpone: { until: "2030-01-11T00:00:00Z", times: 2 },
        noticeLeadHours: 1,
      });
      // The banner shows from an hour before: not yet.
      assert.equal(await status(o), null);
    });
  } finally {
    await app.close();
  }
});
