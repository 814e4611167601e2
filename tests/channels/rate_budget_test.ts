/**
 * The provider budget: calls let go at least 1000/limit ms apart (plus a
 * margin), the limit lowered by the provider's own `ratelimit-limit`, and a
 * 429's pause holding every caller. Kept in KV, so every process on the
 * database shares it (see shared_budget_test.ts for two processes).
 */
import assert from "node:assert/strict";
import {
  KvRateBudget,
  rateLimitInfo,
  spacingMs,
} from "@/lib/channels/rate_budget.ts";
import { withKv } from "../helpers/kv.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "@/lib/channels/resend.ts";

Deno.test("rate budget: the standard headers are read, bad values ignored", () => {
  assert.deepEqual(
    rateLimitInfo({
      "ratelimit-limit": "5",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "1",
    }),
    { limit: 5, remaining: 0, resetMs: 1000 },
  );
  assert.deepEqual(
    rateLimitInfo({ "ratelimit-limit": "lots", "ratelimit-reset": "-3" }),
    {},
  );
  assert.deepEqual(rateLimitInfo(null), {});
  // 5 a second: 200 ms apart, plus a margin, so no fixed window sees a sixth.
  assert.ok(spacingMs(5) > 200 && spacingMs(5) < 220);
});

Deno.test("rate budget in KV: calls are spaced; the provider's lower limit wins; a pause holds everyone", () =>
  withKv(async (kv) => {
    const budget = new KvRateBudget(kv, "test", 50);
    // The times the budget let each caller go (what a busy CPU cannot blur).
    const times = await Promise.all(
      Array.from({ length: 5 }, () => budget.take()),
    );
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i] - times[i - 1] >= spacingMs(50) - 1, `${times}`);
    }

    // The provider says 10 a second: that, not the configured 50, paces.
    await budget.observe({ limit: 10, remaining: 4, resetMs: 1000 });
    const first = await budget.take();
    const second = await budget.take();
    assert.ok(second - first >= spacingMs(10) - 1);

    // A shared instance on the same key sees the pause another one set.
    const other = new KvRateBudget(kv, "test", 50);
    await budget.pause(300);
    assert.ok(await other.delayMs() > 200);
    const b = Date.now();
    assert.ok(await other.take() - b >= 250);
  }));

Deno.test("a call that waited past its notAfter for the rate is not sent, and says so", () =>
  withKv(async (kv) => {
    const fake = await startResendFake();
    try {
      const budget = new KvRateBudget(kv, "late", 5);
      const sender = new RateLimitedEmailSender(
        new ResendEmailSender(fake.apiKey, "n@example.com", fake.url),
        budget,
      );
      await budget.pause(300);
      const res = await sender.send({
        to: "a@example.test",
        subject: "s",
        html: "h",
        text: "t",
      }, { notAfter: Date.now() + 100 });
      assert.equal(res.ok, false);
      assert.equal(!res.ok && res.uncertain, undefined);
      assert.match(!res.ok ? res.error : "", /action time came/);
      assert.equal(fake.requests.length, 0);
    } finally {
      await fake.close();
    }
  }));
