import assert from "node:assert/strict";
import { createTestApp, ORIGIN, TEST_INTERNAL_SECRET } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "@/lib/channels/resend.ts";
import { RateBudget } from "@/lib/channels/rate_budget.ts";
import { createSideEffectsEmailDispatcher } from "@/lib/channels/side_effects.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { getUser } from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";
import {
  ITEM_NOW,
  noticeItem,
  storeHeldItem,
} from "../helpers/channel_fixtures.ts";
import type { NoticeGroup, Notification } from "@/lib/types.ts";

const ROUTE = "/api/internal/scheduled-action-side-effects";

async function setup() {
  const fake = await startResendFake();
  const email = new RateLimitedEmailSender(
    new ResendEmailSender(fake.apiKey, "KiloClaw <n@example.com>", fake.url),
    new RateBudget(1000),
  );
  let now = ITEM_NOW;
  const app = await createTestApp({ context: { email, now: () => now } });
  const post = (body: unknown, secret: string | null = TEST_INTERNAL_SECRET) =>
    app.request(ROUTE, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret === null ? {} : { "x-internal-secret": secret }),
      },
      body: JSON.stringify(body),
    });
  /** A row this caller's sweep holds, and the request body that names its claim. */
  const held = async (item = noticeItem()) => {
    const { claimId } = await storeHeldItem(app.kv, item);
    return {
      item,
      body: { notificationId: item.notification.id, channel: "email", claimId },
    };
  };
  return {
    fake,
    app,
    post,
    held,
    setNow: (t: number) => {
      now = t;
    },
    async close() {
      await app.close();
      await fake.close();
    },
  };
}

/** Rewrites a stored row (a status another path left it in). */
async function setRow(kv: Deno.Kv, row: Notification) {
  await kv.set(keys.notification(row.id), row);
}

Deno.test("internal route: every status", async (t) => {
  const { fake, app, post, held, setNow, close } = await setup();
  try {
    await putCatalogEntry(app.kv, "2026.02.1", { openclawVersion: "1.7.0" });
    await putCatalogEntry(app.kv, "2026.03.1", { openclawVersion: "1.8.2" });
    const { item, body } = await held(
      noticeItem({ actionType: "version_change" }),
    );

    await t.step(
      "401 without the secret or with a wrong one; nothing sent",
      async () => {
        for (
          const secret of [
            null,
            "",
            "wrong-secret-0123456789",
            TEST_INTERNAL_SECRET + "x",
          ]
        ) {
          const res = await post(body, secret);
          assert.equal(res.status, 401, `secret ${secret}`);
          assert.match((await res.json()).error, /X-Internal-Secret/);
        }
        assert.equal(fake.requests.length, 0);
      },
    );
    await t.step("400 for an invalid body, naming the field", async () => {
      const res = await post({ ...body, notificationId: "not-a-uuid" });
      assert.equal(res.status, 400);
      const json = await res.json();
      assert.equal(json.issues[0].path, "notificationId");
      const noClaim = await post({ notificationId: newId(), channel: "email" });
      assert.equal(noClaim.status, 400);
      assert.equal((await noClaim.json()).issues[0].path, "claimId");
    });
    await t.step("400 for a channel other than email, naming it", async () => {
      const res = await post({ ...body, channel: "mobile_push" });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error, /"mobile_push"/);
    });
    await t.step(
      "200 {sent:true}; a repeated call for the same claim gets the first answer, with no second request",
      async () => {
        for (let i = 0; i < 3; i++) {
          const res = await post(body);
          assert.equal(res.status, 200);
          assert.deepEqual(await res.json(), { sent: true });
        }
        assert.equal(fake.requests.length, 1);
        assert.equal(fake.delivered.length, 1);
        assert.equal(
          fake.delivered[0].subject,
          "KiloClaw: Version change scheduled",
        );
        assert.deepEqual(fake.delivered[0].to, [item.user.email]);
        // The catalog's versions, from and to, as the sweep's own email says.
        assert.match(fake.delivered[0].text, /OpenClaw 1\.7\.0/);
        assert.match(fake.delivered[0].text, /OpenClaw 1\.8\.2/);
      },
    );
    await t.step(
      "409 for a row in any status but held by the caller, with the reason; nothing sent",
      async () => {
        const before = fake.requests.length;
        const cases: [string, (n: Notification) => Notification, RegExp][] = [
          [
            "pending",
            (n) => ({ ...n, status: "pending", claimId: null }),
            /is pending/,
          ],
          ["sent", (n) => ({ ...n, status: "sent", claimId: null }), /is sent/],
          [
            "failed (cancelled before dispatch)",
            (n) => ({
              ...n,
              status: "failed",
              claimId: null,
              error: "action cancelled before notice was dispatched",
            }),
            /is failed \(action cancelled before notice was dispatched\)/,
          ],
          [
            "held by another claim",
            (n) => ({ ...n, claimId: newId() }),
            /another claim/,
          ],
        ];
        for (const [name, change, why] of cases) {
          const { item: other, body: otherBody } = await held();
          await setRow(app.kv, change(other.notification));
          const res = await post(otherBody);
          assert.equal(res.status, 409, name);
          assert.match((await res.json()).error, why, name);
        }
        assert.equal(fake.requests.length, before);
      },
    );
    await t.step("409 once the caller's lease has ended", async () => {
      const before = fake.requests.length;
      const { body: late } = await held();
      setNow(ITEM_NOW + 60_000);
      const res = await post(late);
      setNow(ITEM_NOW);
      assert.equal(res.status, 409);
      assert.match((await res.json()).error, /claim .* has ended/);
      assert.equal(fake.requests.length, before);
    });
    await t.step(
      "409 for a notice whose action was cancelled meanwhile",
      async () => {
        const before = fake.requests.length;
        const other = noticeItem();
        other.action = { ...other.action, status: "cancelled" };
        const { body: cancelled } = await held(other);
        const res = await post(cancelled);
        assert.equal(res.status, 409);
        assert.match((await res.json()).error, /cancelled action/);
        assert.equal(fake.requests.length, before);
      },
    );
    await t.step("409 for a notice whose action time has come", async () => {
      const before = fake.requests.length;
      const other = noticeItem();
      const { body: tooLate } = await storeHeldItem(app.kv, other, {
        now: Date.parse(other.stage.scheduledAt) - 1_000,
      }).then(({ claimId }) => ({
        body: {
          notificationId: other.notification.id,
          channel: "email",
          claimId,
        },
      }));
      setNow(Date.parse(other.stage.scheduledAt));
      const res = await post(tooLate);
      setNow(ITEM_NOW);
      assert.equal(res.status, 409);
      assert.match((await res.json()).error, /too late/);
      assert.equal(fake.requests.length, before);
    });
    await t.step("422 when the user has no email address", async () => {
      const { body: noAddress } = await held(
        noticeItem({ user: { email: "" } }),
      );
      const res = await post(noAddress);
      assert.equal(res.status, 422);
      assert.match((await res.json()).error, /no email address/);
    });
    await t.step("422 when the provider refuses, with its words", async () => {
      const refused = noticeItem();
      fake.rejectAddresses.add(refused.user.email);
      const { body: refusedBody } = await held(refused);
      const res = await post(refusedBody);
      assert.equal(res.status, 422);
      assert.match((await res.json()).error, /not allowed/);
    });
    await t.step("422 for a row that does not exist", async () => {
      const res = await post({ ...body, notificationId: newId() });
      assert.equal(res.status, 422);
    });
    await t.step(
      "502 when the provider fails, with its delay when it gave one; a later call under the same claim tries again",
      async () => {
        const { body: other } = await held();
        fake.failNext({ status: 500 });
        let res = await post(other);
        assert.equal(res.status, 502);
        assert.match((await res.json()).error, /500/);
        res = await post(other);
        assert.equal(res.status, 200);
        await res.body?.cancel();
        const { body: slowed } = await held();
        fake.failNext({ status: 429, headers: { "retry-after": "120" } });
        res = await post(slowed);
        assert.equal(res.status, 502);
        assert.equal(res.headers.get("retry-after"), "120");
        await res.body?.cancel();
      },
    );
  } finally {
    await close();
  }
});

Deno.test("internal route: the sweep's email channel with SIDE_EFFECTS_URL sends through it", async () => {
  const { fake, app, close } = await setup();
  try {
    const ok = noticeItem();
    const noAddress = noticeItem({ user: { email: "" } });
    const failing = noticeItem();
    const claimId = newId();
    for (const i of [ok, noAddress, failing]) {
      await storeHeldItem(app.kv, i);
    }
    // One claim holds all three, as one sweep's group would.
    for (const i of [ok, noAddress, failing]) {
      const g = (await app.kv.get<NoticeGroup>(
        keys.noticeGroup(i.notification.groupId!),
      )).value!;
      i.notification = { ...i.notification, claimId };
      await app.kv.atomic()
        .set(keys.notification(i.notification.id), i.notification)
        .set(keys.noticeGroup(g.id), { ...g, claimId })
        .commit();
    }
    const dispatcher = createSideEffectsEmailDispatcher({
      url: "https://other-deployment.example.com",
      secret: TEST_INTERNAL_SECRET,
      concurrency: 1,
      fetch: (input, init) =>
        app.request(new URL(String(input)).pathname, init),
    });
    fake.rejectAddresses.add(failing.user.email);
    const outcomes = await dispatcher.dispatch([ok, noAddress, failing], {
      groupId: newId(),
      claimId,
      resend: false,
      signal: AbortSignal.timeout(10_000),
    });
    assert.deepEqual(outcomes.map((o) => o.status), [
      "sent",
      "failed",
      "failed",
    ]);
    assert.deepEqual(fake.delivered.map((d) => d.to[0]), [ok.user.email]);
  } finally {
    await close();
  }
});

Deno.test("push tokens: a signed-in user registers and removes a device", async (t) => {
  const app = await createTestApp();
  try {
    const { user, cookie } = await app.signIn();
    const token = `ExponentPushToken[${
      newId().replaceAll("-", "").slice(0, 22)
    }]`;
    const call = (method: string, body: unknown, withCookie = true) =>
      app.request("/api/push-tokens", {
        method,
        headers: {
          "content-type": "application/json",
          origin: ORIGIN,
          ...(withCookie ? { cookie } : {}),
        },
        body: JSON.stringify(body),
      });

    await t.step("anonymous: 401", async () => {
      const res = await call("POST", { token }, false);
      assert.equal(res.status, 401);
      await res.body?.cancel();
    });
    await t.step("a malformed token: 400, nothing stored", async () => {
      const res = await call("POST", { token: "not-a-token" });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error, /Expo push token/);
      assert.deepEqual((await getUser(app.kv, user.id))?.pushTokens, []);
    });
    await t.step("register: stored once however often it is sent", async () => {
      for (let i = 0; i < 2; i++) {
        const res = await call("POST", { token });
        assert.equal(res.status, 200);
        assert.equal((await res.json()).devices, 1);
      }
      assert.deepEqual((await getUser(app.kv, user.id))?.pushTokens, [token]);
    });
    await t.step("remove", async () => {
      const res = await call("DELETE", { token });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { token, removed: true, devices: 0 });
      assert.deepEqual((await getUser(app.kv, user.id))?.pushTokens, []);
    });
  } finally {
    await app.close();
  }
});
