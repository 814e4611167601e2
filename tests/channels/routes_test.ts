import assert from "node:assert/strict";
import { createTestApp, ORIGIN, TEST_INTERNAL_SECRET } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "../../lib/channels/resend.ts";
import { RateBudget } from "../../lib/channels/rate_budget.ts";
import { createSideEffectsEmailDispatcher } from "../../lib/channels/side_effects.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getUser } from "../../lib/kv/users.ts";
import { newId } from "../../lib/ids.ts";
import { noticeItem } from "./_fixtures.ts";
import type { NoticeItem } from "../../lib/channels/types.ts";

const ROUTE = "/api/internal/scheduled-action-side-effects";

/** Stores a row and its parents the way the scheduler leaves them. */
async function storeItem(kv: Deno.Kv, item: NoticeItem): Promise<void> {
  const res = await kv.atomic()
    .set(keys.user(item.user.id), item.user)
    .set(keys.instance(item.instance!.id), item.instance)
    .set(keys.action(item.action.id), item.action)
    .set(keys.stage(item.action.id, 0), item.stage)
    .set(keys.target(item.target.id), item.target)
    .set(keys.notification(item.notification.id), item.notification)
    .commit();
  assert.ok(res.ok);
}

async function setup() {
  const fake = await startResendFake();
  const email = new RateLimitedEmailSender(
    new ResendEmailSender(fake.apiKey, "KiloClaw <n@example.com>", fake.url),
    new RateBudget(1000),
  );
  const app = await createTestApp({ context: { email } });
  const post = (body: unknown, secret: string | null = TEST_INTERNAL_SECRET) =>
    app.request(ROUTE, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret === null ? {} : { "x-internal-secret": secret }),
      },
      body: JSON.stringify(body),
    });
  return {
    fake,
    app,
    post,
    async close() {
      await app.close();
      await fake.close();
    },
  };
}

Deno.test("internal route: every status", async (t) => {
  const { fake, app, post, close } = await setup();
  try {
    const item = noticeItem({ actionType: "version_change" });
    await storeItem(app.kv, item);
    const body = { notificationId: item.notification.id, channel: "email" };

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
      const res = await post({
        notificationId: "not-a-uuid",
        channel: "email",
      });
      assert.equal(res.status, 400);
      const json = await res.json();
      assert.equal(json.issues[0].path, "notificationId");
    });
    await t.step("400 for a channel other than email, naming it", async () => {
      const res = await post({ ...body, channel: "mobile_push" });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error, /"mobile_push"/);
    });
    await t.step(
      "200 {sent:true}; a second call for the same row reaches the provider's inbox once",
      async () => {
        for (let i = 0; i < 2; i++) {
          const res = await post(body);
          assert.equal(res.status, 200);
          assert.deepEqual(await res.json(), { sent: true });
        }
        assert.equal(fake.delivered.length, 1);
        assert.equal(
          fake.delivered[0].subject,
          "KiloClaw: Version Change Scheduled",
        );
        assert.deepEqual(fake.delivered[0].to, [item.user.email]);
      },
    );
    await t.step("422 when the user has no email address", async () => {
      const noAddress = noticeItem();
      noAddress.user.email = "";
      await storeItem(app.kv, noAddress);
      const res = await post({
        notificationId: noAddress.notification.id,
        channel: "email",
      });
      assert.equal(res.status, 422);
      assert.match((await res.json()).error, /no email address/);
    });
    await t.step("422 when the provider refuses, with its words", async () => {
      const refused = noticeItem();
      fake.rejectAddresses.add(refused.user.email);
      await storeItem(app.kv, refused);
      const res = await post({
        notificationId: refused.notification.id,
        channel: "email",
      });
      assert.equal(res.status, 422);
      assert.match((await res.json()).error, /not allowed/);
    });
    await t.step("422 for a row that does not exist", async () => {
      const res = await post({ notificationId: newId(), channel: "email" });
      assert.equal(res.status, 422);
    });
    await t.step(
      "502 when the provider fails, with its delay when it gave one",
      async () => {
        const other = noticeItem();
        await storeItem(app.kv, other);
        fake.failNext({ status: 500 });
        let res = await post({
          notificationId: other.notification.id,
          channel: "email",
        });
        assert.equal(res.status, 502);
        assert.match((await res.json()).error, /500/);
        fake.failNext({ status: 429, headers: { "retry-after": "120" } });
        res = await post({
          notificationId: other.notification.id,
          channel: "email",
        });
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
    for (const i of [ok, noAddress, failing]) await storeItem(app.kv, i);
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
