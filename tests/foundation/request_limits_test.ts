/**
 * Bodies: each route's limit is enforced from the declared length before a
 * byte is read, and on the bytes themselves when none is declared; a body
 * that stalls answers 408, one cut short answers 400 (never a 500).
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createTestApp, TEST_ADMIN_TOKEN } from "../helpers/app.ts";
import {
  ADMIN_BODY_BYTES,
  ANONYMOUS_BODY_BYTES,
  bodyLimitFor,
  limitBodies,
  OWNER_BODY_BYTES,
} from "@/lib/web/request_limits.ts";
import { AppError } from "@/lib/errors.ts";
import { readJson } from "@/lib/web/request_body.ts";

/** A body that never sends a byte: reading it would hang the request. */
function neverArrives(): ReadableStream<Uint8Array> {
  return new ReadableStream({ pull: () => new Promise(() => {}) });
}

/** Fails if `work` takes longer than `ms`: here a hang, not a speed. */
async function settlesWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer after ${ms} ms: it waited`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function chunks(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(new Uint8Array(1024).fill(97));
      sent += 1024;
    },
  });
}

Deno.test("the anonymous routes take the smallest bodies, the admin's the largest", () => {
  assert.equal(bodyLimitFor("/login"), ANONYMOUS_BODY_BYTES);
  assert.equal(bodyLimitFor("/login/abc"), ANONYMOUS_BODY_BYTES);
  // The one-click unsubscribe: a mail provider's tiny form, from anyone.
  assert.equal(bodyLimitFor("/unsubscribe/abc"), ANONYMOUS_BODY_BYTES);
  assert.equal(bodyLimitFor("/api/push-tokens"), OWNER_BODY_BYTES);
  assert.equal(
    bodyLimitFor("/api/admin/scheduled-actions"),
    ADMIN_BODY_BYTES,
  );
  assert.ok(ANONYMOUS_BODY_BYTES < OWNER_BODY_BYTES);
  assert.ok(OWNER_BODY_BYTES < ADMIN_BODY_BYTES);
});

Deno.test("a declared length over the route's limit is refused before the body is read", async () => {
  const app = await createTestApp();
  try {
    // The sign-in form: a million declared bytes that never come.
    const login = await settlesWithin(
      app.request("/login", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": "1000000",
          origin: "http://localhost:8000",
        },
        body: neverArrives(),
        duplex: "half",
      } as RequestInit),
      5000,
    );
    assert.equal(login.status, 413);
    assert.match(await login.text(), /2,048 bytes/);

    // An owner route: over 16 KiB declared, before any session work.
    const owner = await settlesWithin(
      app.request("/api/push-tokens", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": String(OWNER_BODY_BYTES + 1),
        },
        body: neverArrives(),
        duplex: "half",
      } as RequestInit),
      5000,
    );
    assert.equal(owner.status, 413);
    assert.match((await owner.json()).error, /16,384 bytes/);
  } finally {
    await app.close();
  }
});

Deno.test("a body with no declared length is cut off at the route's limit", async () => {
  const app = await createTestApp();
  try {
    const res = await app.request("/login", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://localhost:8000",
      },
      body: chunks(64 * 1024),
      duplex: "half",
    } as RequestInit);
    assert.equal(res.status, 413);
    await res.body?.cancel();

    const admin = await app.request("/api/admin/scheduled-actions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
        "content-type": "application/json",
      },
      body: chunks(ADMIN_BODY_BYTES + 64 * 1024),
      duplex: "half",
    } as RequestInit);
    assert.equal(admin.status, 413);
    assert.match((await admin.json()).error, /8,388,608 bytes/);
  } finally {
    await app.close();
  }
});

Deno.test("a body that stalls answers 408 once its time is up", async () => {
  const app = new Hono();
  app.use(limitBodies({ timeoutMs: 200 }));
  app.post("/", async (c) => {
    try {
      return c.json(await readJson(c.req.raw));
    } catch (err) {
      if (err instanceof AppError) {
        return c.json(err.toJSON(), err.status as 408);
      }
      throw err;
    }
  });
  const res = await settlesWithin(
    Promise.resolve(app.request("/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: neverArrives(),
      duplex: "half",
    } as RequestInit)),
    5000,
  );
  assert.equal(res.status, 408);
  assert.match(
    (await res.json()).error,
    /the request body did not arrive within 0\.2 s/,
  );
});

Deno.test("a JSON body cut short answers 400 with a plain reason, not 500", async () => {
  const app = await createTestApp();
  try {
    // What the server's body stream does when the client closes mid-body.
    const cutShort = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"actionType":"sched'));
        controller.error(
          new Deno.errors.BadResource(
            "Cannot read body as underlying resource unavailable",
          ),
        );
      },
    });
    const res = await app.request("/api/admin/scheduled-actions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
        "content-type": "application/json",
        "content-length": "500",
      },
      body: cutShort,
      duplex: "half",
    } as RequestInit);
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /the request body was cut short/);
  } finally {
    await app.close();
  }
});
