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
import { createLoginLink } from "@/lib/auth/login_links.ts";
import { DEVICE_COOKIE, DEVICE_TTL_MS } from "@/lib/auth/device_cookie.ts";
import { getUserByEmail, putUser } from "@/lib/kv/users.ts";

function signIn(
  app: TestApp,
  email: string,
  client: string,
  cookie?: string,
) {
  const info = {
    remoteAddr: { transport: "tcp" as const, hostname: client, port: 40000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
  return app.handler(
    new Request(new URL("/login", ORIGIN), {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(cookie ? { cookie } : {}),
      },
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

async function send(
  app: TestApp,
  email: string,
  client: string,
  cookie?: string,
) {
  const res = await signIn(app, email, client, cookie);
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

/** Spends the window's budget for all clients, from as many clients as it takes. */
async function spendAllClientsBudget(app: TestApp) {
  for (let i = 0; i < ALL_CLIENTS.max + 5; i++) {
    await send(
      app,
      `flood-${i}@example.com`,
      `198.51.${(i >> 8) & 255}.${i & 255}`,
    );
  }
}

/** Follows a sign-in link for `email` in a browser; returns the cookie it was given to come back with. */
async function signedInBefore(app: TestApp, email: string): Promise<string> {
  const user = await getUserByEmail(app.kv, email) ??
    await putUser(app.kv, crypto.randomUUID(), { email });
  const link = await createLoginLink(app.kv, user.id, ORIGIN, app.ctx.now());
  const res = await app.request(new URL(link).pathname, { redirect: "manual" });
  assert.equal(res.status, 303);
  const device = res.headers.getSetCookie().find((c) =>
    c.startsWith(`${DEVICE_COOKIE}=`)
  );
  assert.ok(device, "following a sign-in link sets the device cookie");
  assert.match(device, /HttpOnly/i);
  assert.match(device, /SameSite=Lax/i);
  return device.split(";")[0];
}

const linksTo = async (app: TestApp, email: string) =>
  (await listOutbox(app.kv, { limit: 50 })).items.filter((m) => m.to === email)
    .length;

Deno.test("a flood that spends every client's budget does not lock out a browser that signed in before", async () => {
  const app = await fixedClock();
  try {
    const back = await signedInBefore(app, "back@example.com");
    const other = await signedInBefore(app, "other@example.com");
    await putUser(app.kv, crypto.randomUUID(), { email: "new@example.com" });
    await spendAllClientsBudget(app);
    await app.queueIdle();

    // The browser that signed in as back@ gets its link, from a client the
    // flood never used, and counted against its own limits only.
    await send(app, "BACK@example.com", "192.0.2.200", back);
    // Without the cookie, or with one for another address, the budget holds.
    await send(app, "new@example.com", "192.0.2.201");
    await send(app, "new@example.com", "192.0.2.202", other);
    await send(app, "back@example.com", "192.0.2.203");
    await app.queueIdle();
    assert.equal(await linksTo(app, "back@example.com"), 1);
    assert.equal(await linksTo(app, "new@example.com"), 0);

    // Its address's own limit still holds.
    for (let i = 0; i < PER_ADDRESS.max + 3; i++) {
      await send(app, "back@example.com", `192.0.2.${10 + i}`, back);
    }
    await app.queueIdle();
    assert.equal(await linksTo(app, "back@example.com"), PER_ADDRESS.max);
  } finally {
    await app.close();
  }
});

Deno.test("a device cookie that is altered, made up or out of date counts as anonymous", async () => {
  const app = await fixedClock();
  try {
    const back = await signedInBefore(app, "back@example.com");
    const [name, value] = back.split("=");
    const [expiresAt, mac] = value.split(".");
    await spendAllClientsBudget(app);
    const tries = [
      // A later expiry under the same MAC.
      `${name}=${Number(expiresAt) + 1}.${mac}`,
      // One character of the MAC changed.
      `${name}=${expiresAt}.${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`,
      `${name}=${expiresAt}.${"A".repeat(43)}`,
      `${name}=garbage`,
    ];
    for (const [i, cookie] of tries.entries()) {
      await send(app, "back@example.com", `192.0.2.${50 + i}`, cookie);
    }
    await app.queueIdle();
    assert.equal(await linksTo(app, "back@example.com"), 0);
  } finally {
    await app.close();
  }
  // A cookie the day after it expired, beside one made that day.
  let clock = MID_WINDOW;
  const later = await createTestApp({ context: { now: () => clock } });
  try {
    const stale = await signedInBefore(later, "back@example.com");
    clock += DEVICE_TTL_MS + 24 * 3_600_000;
    const fresh = await signedInBefore(later, "back@example.com");
    await spendAllClientsBudget(later);
    await send(later, "back@example.com", "192.0.2.60", stale);
    await later.queueIdle();
    assert.equal(await linksTo(later, "back@example.com"), 0);
    await send(later, "back@example.com", "192.0.2.61", fresh);
    await later.queueIdle();
    assert.equal(await linksTo(later, "back@example.com"), 1);
  } finally {
    await later.close();
  }
});

Deno.test("someone asking for a person's links over and over does not lock that person's browser out", async () => {
  const app = await fixedClock();
  try {
    const back = await signedInBefore(app, "back@example.com");
    // Others spend the address's limit from many clients: 5 links reach its inbox, no more.
    for (let i = 0; i < PER_ADDRESS.max + 10; i++) {
      await send(app, "back@example.com", `203.0.113.${i}`);
    }
    await app.queueIdle();
    assert.equal(await linksTo(app, "back@example.com"), PER_ADDRESS.max);
    // The person's own browser still gets its links, up to a limit of its own.
    for (let i = 0; i < PER_ADDRESS.max + 3; i++) {
      await send(app, "back@example.com", "192.0.2.99", back);
    }
    await app.queueIdle();
    assert.equal(await linksTo(app, "back@example.com"), 2 * PER_ADDRESS.max);
  } finally {
    await app.close();
  }
});

Deno.test("colleagues behind one network address sign in again past its limit; newcomers there wait", async () => {
  const app = await fixedClock();
  try {
    const office = "198.51.100.20";
    const staff = Array.from(
      { length: PER_CLIENT.max + 5 },
      (_, i) => `staff-${i}@example.com`,
    );
    const cookies = [];
    for (const email of staff) cookies.push(await signedInBefore(app, email));
    for (const [i, email] of staff.entries()) {
      await send(app, email, office, cookies[i]);
    }
    // Newcomers from the same office: the network's limit holds for them.
    for (let i = 0; i < PER_CLIENT.max + 5; i++) {
      const email = `new-${i}@example.com`;
      await putUser(app.kv, crypto.randomUUID(), { email });
      await send(app, email, office);
    }
    await app.queueIdle();
    const { items } = await listOutbox(app.kv, { limit: 200 });
    assert.equal(
      items.filter((m) => m.to.startsWith("staff-")).length,
      staff.length,
    );
    assert.equal(
      items.filter((m) => m.to.startsWith("new-")).length,
      PER_CLIENT.max,
    );
  } finally {
    await app.close();
  }
});
