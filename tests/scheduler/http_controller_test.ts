import assert from "node:assert/strict";
import { httpController } from "@/lib/apply/http_controller.ts";
import { createController } from "@/lib/apply/create_controller.ts";
import { testConfig } from "@/lib/config.ts";
import { startFakeController } from "../fakes/controller_server.ts";
import type { Instance } from "@/lib/types.ts";

const SECRET = "controller-secret-0123456789";
const instance: Instance = {
  id: "inst-1",
  name: "claw",
  ownerId: "u1",
  imageTag: "v1",
  pinnedImageTag: null,
  status: "running",
  lastRestartAt: null,
  createdAt: "2030-01-01T00:00:00.000Z",
  updatedAt: "2030-01-01T00:00:00.000Z",
};
const opts = { actionId: "a1", targetId: "t1" };

async function withFake(
  fn: (fake: ReturnType<typeof startFakeController>) => Promise<void>,
) {
  const fake = startFakeController(SECRET);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

Deno.test("http controller: signed requests to the restart and version-change paths", async () => {
  await withFake(async (fake) => {
    const ctl = httpController({ baseUrl: fake.url, secret: SECRET });
    assert.deepEqual(await ctl.restart(instance, opts), { ok: true });
    assert.deepEqual(
      await ctl.changeVersion(instance, "v2", {
        ...opts,
        expectedPinnedImageTag: null,
      }),
      { ok: true },
    );
    assert.deepEqual(fake.requests.map((r) => r.path), [
      "/instances/inst-1/restart",
      "/instances/inst-1/version-change",
    ]);
    assert.ok(fake.requests.every((r) => r.signatureValid));
    assert.ok(fake.requests.every((r) => r.idempotencyKey === "t1"));
    assert.deepEqual(fake.requests[1].body, {
      instanceId: "inst-1",
      actionId: "a1",
      targetId: "t1",
      imageTag: "v2",
      expectedPinnedImageTag: null,
    });
  });
});

Deno.test("http controller: overriding pins asks the fleet to remove the pin it expects", async () => {
  await withFake(async (fake) => {
    const ctl = httpController({ baseUrl: fake.url, secret: SECRET });
    await ctl.changeVersion(instance, "v2", {
      ...opts,
      expectedPinnedImageTag: "v1",
      removePin: true,
    });
    assert.deepEqual(fake.requests[0].body, {
      instanceId: "inst-1",
      actionId: "a1",
      targetId: "t1",
      imageTag: "v2",
      expectedPinnedImageTag: "v1",
      removePin: true,
    });
  });
});

Deno.test("http controller: a wrong secret produces a signature the fleet rejects", async () => {
  await withFake(async (fake) => {
    await httpController({
      baseUrl: fake.url,
      secret: "another-secret-0123456789",
    }).restart(instance, opts);
    assert.equal(fake.requests[0].signatureValid, false);
  });
});

Deno.test("http controller: transient answers are retried, honouring Retry-After; persistent ones stay transient", async () => {
  await withFake(async (fake) => {
    const ctl = httpController({
      baseUrl: fake.url,
      secret: SECRET,
      backoffMs: 1,
      tries: 3,
    });
    fake.script({ status: 503 }, {
      status: 429,
      headers: { "retry-after": "0" },
    });
    assert.deepEqual(await ctl.restart(instance, opts), { ok: true });
    assert.equal(fake.requests.length, 3);
    fake.script({ status: 502, body: { error: "upstream down" } }, {
      status: 502,
    }, { status: 502, body: { error: "upstream down" } });
    const res = await ctl.restart(instance, opts);
    assert.deepEqual(res, {
      ok: false,
      transient: true,
      error: "controller answered 502: upstream down",
    });
  });
});

Deno.test("http controller: a timeout is transient; 4xx fails at once; 409 with a reason is a skip", async () => {
  await withFake(async (fake) => {
    const ctl = httpController({
      baseUrl: fake.url,
      secret: SECRET,
      backoffMs: 1,
      tries: 1,
      timeoutMs: 50,
    });
    fake.script({ hangMs: 300 });
    const slow = await ctl.restart(instance, opts);
    assert.equal(slow.ok, false);
    assert.ok(!slow.ok && slow.transient && /within 50 ms/.test(slow.error));
    const retrying = httpController({
      baseUrl: fake.url,
      secret: SECRET,
      backoffMs: 1,
      tries: 3,
    });
    fake.script({
      status: 400,
      body: { error: "image v2 unknown to the fleet" },
    });
    const before = fake.requests.length;
    assert.deepEqual(await retrying.changeVersion(instance, "v2", opts), {
      ok: false,
      transient: false,
      error: "controller answered 400: image v2 unknown to the fleet",
    });
    assert.equal(fake.requests.length, before + 1);
    fake.script({ status: 409, body: { reason: "pin_changed_in_flight" } });
    const skip = await retrying.changeVersion(instance, "v2", opts);
    assert.ok(!skip.ok && skip.skipReason === "pin_changed_in_flight");
  });
});

Deno.test("createController: embedded by default, http with CONTROLLER_URL", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    assert.equal(createController(testConfig(), kv).name, "embedded");
    assert.equal(
      createController(
        testConfig({
          controllerUrl: "http://127.0.0.1:1",
          controllerSecret: SECRET,
        }),
        kv,
      ).name,
      "http",
    );
  } finally {
    kv.close();
  }
});

Deno.test("http controller: health is read 100 instances a call, signed; what the fleet leaves out or garbles is unknown", async () => {
  await withFake(async (fake) => {
    const ids = Array.from({ length: 230 }, (_, i) => `i-${i}`);
    const answer = (from: number, to: number) => ({
      status: 200,
      body: {
        health: Object.fromEntries(
          ids.slice(from, to).map((id, k) => [
            id,
            k === 0 ? "unhealthy" : k === 1 ? "on fire" : "healthy",
          ]),
        ),
      },
    });
    // The last batch leaves its last ten out.
    fake.script(answer(0, 100), answer(100, 200), answer(200, 220));
    const ctl = httpController({ baseUrl: fake.url, secret: SECRET });
    const health = await ctl.health(ids);
    assert.deepEqual(fake.requests.map((r) => r.path), [
      "/instances/health",
      "/instances/health",
      "/instances/health",
    ]);
    assert.ok(fake.requests.every((r) => r.signatureValid));
    assert.deepEqual(
      fake.requests.map((r) => (r.body.instanceIds as string[]).length),
      [100, 100, 30],
    );
    const tally = { healthy: 0, unhealthy: 0, unknown: 0 };
    for (const id of ids) tally[health[id]]++;
    // Per batch: one unhealthy, one garbled (unknown), the rest healthy;
    // and the ten the last answer left out are unknown.
    assert.deepEqual(tally, { healthy: 214, unhealthy: 3, unknown: 13 });
  });
});

Deno.test("http controller: a fleet that cannot answer health reads as unknown, never as a failure", async () => {
  await withFake(async (fake) => {
    fake.script({ status: 503 }, { status: 503 }, { status: 503 });
    const ctl = httpController({
      baseUrl: fake.url,
      secret: SECRET,
      backoffMs: 1,
    });
    assert.deepEqual(await ctl.health(["a", "b"]), {
      a: "unknown",
      b: "unknown",
    });
    assert.equal(fake.requests.length, 3);
  });
});
