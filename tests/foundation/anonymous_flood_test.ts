/**
 * What anonymous traffic can make the app store. A flood of sign-in requests
 * gets the same answer every time, and stores a bounded number of KV entries:
 * a request over any limit stores nothing at all.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import {
  ALL_CLIENTS,
  PER_ADDRESS,
  PER_CLIENT,
} from "@/lib/auth/login_links.ts";
import { clientSubject } from "@/lib/auth/rate_limit.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";

function signIn(app: TestApp, email: string, client: string) {
  const info = {
    remoteAddr: { transport: "tcp" as const, hostname: client, port: 40000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
  return app.handler(
    new Request(new URL("/login", ORIGIN), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email }).toString(),
    }),
    info,
  );
}

/** The middle of a rate-limit window, so no test straddles two. */
const MID_WINDOW = Math.floor(Date.now() / PER_CLIENT.windowMs) *
    PER_CLIENT.windowMs + PER_CLIENT.windowMs / 2;
const fixedClock = () => createTestApp({ context: { now: () => MID_WINDOW } });

async function keysUnder(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

async function send(app: TestApp, email: string, client: string) {
  const res = await signIn(app, email, client);
  const html = await res.text();
  assert.equal(res.status, 200);
  assert.match(html, /a sign-in link is on its way/);
}

Deno.test("one client flooding /login with new addresses stores at most its limit", async () => {
  const app = await fixedClock();
  try {
    const before = await keysUnder(app.kv, []);
    for (let i = 0; i < 200; i++) {
      await send(app, `flood-${i}@example.com`, "203.0.113.7");
    }
    await app.queueIdle();
    // One counter for the client, one for everyone, one per address it was allowed.
    assert.equal(
      await keysUnder(app.kv, ["rate_limits", "login_address"]),
      PER_CLIENT.max,
    );
    assert.equal(await keysUnder(app.kv, ["rate_limits", "login_client"]), 1);
    assert.equal(await keysUnder(app.kv, ["rate_limits", "login_all"]), 1);
    assert.equal(
      (await keysUnder(app.kv, [])) - before,
      PER_CLIENT.max + 2,
      "nothing else was stored",
    );
  } finally {
    await app.close();
  }
});

Deno.test("many clients together stop storing once the window's budget is spent", async () => {
  const app = await fixedClock();
  try {
    const clientOf = (i: number) =>
      `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < ALL_CLIENTS.max; i++) {
      await send(app, `many-${i}@example.com`, clientOf(i));
    }
    const full = await keysUnder(app.kv, ["rate_limits"]);
    assert.equal(full, 2 * ALL_CLIENTS.max + 1);
    for (let i = ALL_CLIENTS.max; i < ALL_CLIENTS.max + 100; i++) {
      await send(app, `many-${i}@example.com`, clientOf(i));
    }
    await app.queueIdle();
    assert.equal(
      await keysUnder(app.kv, ["rate_limits"]),
      full,
      "requests over the budget stored nothing",
    );
  } finally {
    await app.close();
  }
});

Deno.test("a known address gets at most its limit of sign-in links, however often it is asked for", async () => {
  const app = await fixedClock();
  try {
    const { user } = await app.signIn({ email: "known@example.com" });
    for (let i = 0; i < 30; i++) {
      await send(app, user.email, `192.0.2.${i}`);
    }
    await app.queueIdle();
    assert.equal(await keysUnder(app.kv, ["login_tokens"]), PER_ADDRESS.max);
    const { items } = await listOutbox(app.kv, { limit: 50 });
    assert.equal(
      items.filter((m) => m.to === user.email).length,
      PER_ADDRESS.max,
    );
  } finally {
    await app.close();
  }
});

Deno.test("IPv6 clients are counted by their /64", async () => {
  assert.equal(clientSubject("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.equal(
    clientSubject("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"),
    "2001:db8:1:2::/64",
  );
  assert.equal(clientSubject("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(clientSubject("::1"), "0:0:0:0::/64");
  assert.equal(clientSubject("203.0.113.9"), "203.0.113.9");

  const app = await fixedClock();
  try {
    for (let i = 0; i < 60; i++) {
      await send(app, `v6-${i}@example.com`, `2001:db8:1:2::${i.toString(16)}`);
    }
    await app.queueIdle();
    assert.equal(
      await keysUnder(app.kv, ["rate_limits", "login_address"]),
      PER_CLIENT.max,
    );
  } finally {
    await app.close();
  }
});
