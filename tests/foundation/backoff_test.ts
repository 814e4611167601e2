/**
 * Retries wait twice as long each time, up to a cap, spread over the upper
 * half of the step by a jitter, and never sooner than the upstream asked.
 */
import assert from "node:assert/strict";
import { backoffMs } from "@/lib/backoff.ts";

Deno.test("the wait doubles from the base, up to the cap", () => {
  const waits = [1, 2, 3, 4, 5, 6].map((n) =>
    backoffMs(n, { baseMs: 1_000, maxMs: 10_000 })
  );
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
});

Deno.test("a jitter spreads the wait over the upper half of its step", () => {
  assert.equal(backoffMs(3, { baseMs: 1_000, jitter: 0 }), 2_000);
  assert.equal(backoffMs(3, { baseMs: 1_000, jitter: 0.5 }), 3_000);
  assert.equal(backoffMs(3, { baseMs: 1_000, jitter: 0.999 }), 3_998);
});

Deno.test("an upstream's Retry-After longer than the step wins", () => {
  assert.equal(backoffMs(1, { baseMs: 5_000, retryAfterMs: 60_000 }), 60_000);
  assert.equal(backoffMs(4, { baseMs: 5_000, retryAfterMs: 1_000 }), 40_000);
});
