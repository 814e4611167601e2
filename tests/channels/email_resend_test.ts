import assert from "node:assert/strict";
import { startResendFake } from "../fakes/resend_server.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "@/lib/channels/resend.ts";
import { RateBudget } from "@/lib/channels/rate_budget.ts";
import { createEmailDispatcher } from "@/lib/channels/email.ts";
import { createEmailSender } from "@/lib/channels/mod.ts";
import { testConfig } from "@/lib/config.ts";
import { newId } from "@/lib/ids.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

const PUBLIC_URL = "https://claw.example.com";
const FROM = "KiloClaw <notices@example.com>";

async function setup() {
  const fake = await startResendFake();
  const email = new RateLimitedEmailSender(
    new ResendEmailSender(fake.apiKey, FROM, fake.url),
    new RateBudget(1000),
  );
  const dispatcher = createEmailDispatcher({ email, publicUrl: PUBLIC_URL });
  const dispatch = (items = [noticeItem()], groupId = newId()) =>
    dispatcher.dispatch(items, {
      groupId,
      claimId: newId(),
      resend: false,
      signal: AbortSignal.timeout(10_000),
    });
  return { fake, dispatch };
}

Deno.test("resend: one row goes to /emails with an idempotency key; sending it again reaches the provider once", async () => {
  const { fake, dispatch } = await setup();
  try {
    const item = noticeItem();
    const groupId = newId();
    assert.deepEqual((await dispatch([item], groupId)).map((o) => o.status), [
      "sent",
    ]);
    assert.deepEqual((await dispatch([item], groupId)).map((o) => o.status), [
      "sent",
    ]);
    assert.equal(fake.requests.length, 2);
    assert.ok(
      fake.requests.every((r) =>
        r.path === "/emails" && r.idempotencyKey?.includes(groupId)
      ),
    );
    assert.equal(fake.delivered.length, 1);
    assert.deepEqual(fake.delivered[0].to, [item.user.email]);
    assert.equal(fake.delivered[0].from, FROM);
    assert.equal(fake.delivered[0].subject, "KiloClaw: Restart scheduled");
    assert.match(fake.delivered[0].text, /Hi Ada/);
  } finally {
    await fake.close();
  }
});

Deno.test("resend: 250 rows become three batch calls, and a retry of the group sends nothing twice", async () => {
  const { fake, dispatch } = await setup();
  try {
    const items = Array.from({ length: 250 }, () => noticeItem());
    const groupId = newId();
    const first = await dispatch(items, groupId);
    assert.ok(first.every((o) => o.status === "sent"));
    const batchCalls = fake.requests.filter((r) => r.path === "/emails/batch");
    assert.deepEqual(batchCalls.map((r) => (r.body as unknown[]).length), [
      100,
      100,
      50,
    ]);
    assert.equal(new Set(batchCalls.map((r) => r.idempotencyKey)).size, 3);
    assert.equal(fake.delivered.length, 250);
    assert.deepEqual(
      new Set(fake.delivered.map((d) => d.to[0])),
      new Set(items.map((i) => i.user.email)),
    );
    await dispatch(items, groupId);
    assert.equal(fake.delivered.length, 250);
  } finally {
    await fake.close();
  }
});

Deno.test("resend: a 429 is waited out as retry-after says, then the same call succeeds", async () => {
  const { fake, dispatch } = await setup();
  try {
    fake.failNext({
      status: 429,
      body: {
        statusCode: 429,
        name: "rate_limit_exceeded",
        message: "Too many requests.",
      },
      headers: { "retry-after": "1" },
    });
    const outcomes = await dispatch();
    assert.deepEqual(outcomes.map((o) => o.status), ["sent"]);
    assert.equal(fake.requests.length, 2);
    assert.equal(
      fake.requests[0].idempotencyKey,
      fake.requests[1].idempotencyKey,
    );
    assert.equal(fake.delivered.length, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("resend: a long wait goes back to the sweep as a retry with the provider's delay", async () => {
  const { fake, dispatch } = await setup();
  try {
    fake.failNext({
      status: 429,
      body: {
        statusCode: 429,
        name: "rate_limit_exceeded",
        message: "Too many requests.",
      },
      headers: { "ratelimit-reset": "60" },
    });
    const [outcome] = await dispatch();
    assert.equal(outcome.status, "retry");
    assert.equal(outcome.status === "retry" && outcome.retryAfterMs, 60_000);
    const [next] = await dispatch();
    assert.equal(next.status, "retry", "other senders hold off too");
    assert.ok(next.status === "retry" && next.retryAfterMs! > 50_000);
    assert.equal(
      fake.requests.length,
      1,
      "the provider is not asked again meanwhile",
    );
    assert.equal(fake.delivered.length, 0);
  } finally {
    await fake.close();
  }
});

Deno.test("resend: errors map to retry (5xx, unreachable) or failed with the provider's words (422)", async (t) => {
  const { fake, dispatch } = await setup();
  try {
    await t.step("500 → retry", async () => {
      fake.failNext({ status: 500 });
      const [o] = await dispatch();
      assert.equal(o.status, "retry");
    });
    await t.step("422 → failed, naming the problem", async () => {
      const item = noticeItem();
      fake.rejectAddresses.add(item.user.email);
      const [o] = await dispatch([item]);
      assert.equal(o.status, "failed");
      assert.match(o.status === "failed" ? o.error : "", /422.*not allowed/);
    });
    await t.step(
      "a user without an address fails alone; the rest of the group goes out",
      async () => {
        const bad = noticeItem({ user: { email: "" } });
        const good = noticeItem();
        const before = fake.delivered.length;
        const outcomes = await dispatch([bad, good]);
        assert.deepEqual(outcomes.map((o) => o.status), ["failed", "sent"]);
        assert.match(
          outcomes[0].status === "failed" ? outcomes[0].error : "",
          /no email address/,
        );
        assert.equal(fake.delivered.length, before + 1);
      },
    );
  } finally {
    await fake.close();
  }
  await t.step("provider unreachable → retry", async () => {
    const [o] = await dispatch();
    assert.equal(o.status, "retry");
    assert.match(o.status === "retry" ? o.error : "", /unreachable/);
  });
});

Deno.test("createEmailSender: Resend at RESEND_BASE_URL when a key is set, the outbox otherwise", async () => {
  const fake = await startResendFake();
  const kv = await Deno.openKv(":memory:");
  try {
    const resend = createEmailSender(
      testConfig({
        resendApiKey: fake.apiKey,
        resendBaseUrl: fake.url,
        emailRatePerSecond: 1000,
      }),
      kv,
    );
    assert.equal(resend.name, "resend");
    const res = await resend.send({
      to: "r@example.com",
      subject: "Hi",
      html: "<p>Hi</p>",
      text: "Hi",
    });
    assert.ok(res.ok);
    assert.equal(fake.delivered.length, 1);
    assert.equal(createEmailSender(testConfig(), kv).name, "outbox");
  } finally {
    kv.close();
    await fake.close();
  }
});
