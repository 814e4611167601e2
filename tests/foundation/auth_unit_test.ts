import assert from "node:assert/strict";
import {
  consumeLoginLink,
  createLoginLink,
  LOGIN_LINK_TTL_MS,
} from "@/lib/auth/login_links.ts";
import {
  clearSessionCookie,
  createSession,
  deleteSession,
  getSession,
  SESSION_TTL_MS,
  sessionCookie,
} from "@/lib/auth/sessions.ts";
import { allowAttempt } from "@/lib/auth/rate_limit.ts";
import { secretsEqual } from "@/lib/auth/compare.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putUser } from "@/lib/kv/users.ts";

Deno.test("login link: works once, stores only a hash, expires after 15 minutes", async (t) => {
  const kv = await Deno.openKv(":memory:");
  const now = Date.parse("2026-11-25T12:00:00Z");
  await t.step("single use", async () => {
    const link = await createLoginLink(
      kv,
      "user-1",
      "http://x",
      now,
      "/claw/abc",
    );
    const token = link.split("/login/")[1];
    const stored = [];
    for await (
      const e of kv.list({ prefix: keys.loginToken("").slice(0, 1) })
    ) stored.push(e);
    assert.equal(stored.length, 1);
    assert.ok(
      !JSON.stringify(stored[0].key).includes(token),
      "the token itself is not a key",
    );
    assert.ok(
      !JSON.stringify(stored[0].value).includes(token),
      "the token itself is not stored",
    );
    assert.deepEqual(await consumeLoginLink(kv, token, now + 1000), {
      userId: "user-1",
      next: "/claw/abc",
    });
    assert.equal(await consumeLoginLink(kv, token, now + 2000), null);
  });
  await t.step("expired", async () => {
    const link = await createLoginLink(kv, "user-2", "http://x", now);
    const token = link.split("/login/")[1];
    assert.equal(
      await consumeLoginLink(kv, token, now + LOGIN_LINK_TTL_MS + 1),
      null,
    );
  });
  await t.step("malformed and unknown tokens", async () => {
    assert.equal(await consumeLoginLink(kv, "../../etc", now), null);
    assert.equal(await consumeLoginLink(kv, "A".repeat(43), now), null);
  });
  kv.close();
});

Deno.test("session: readable until deleted or expired", async () => {
  const kv = await Deno.openKv(":memory:");
  const now = Date.now();
  const user = await putUser(kv, "u1", { email: "u1@example.com" }, now);
  const { id, session } = await createSession(kv, user.id, now);
  assert.equal((await getSession(kv, id, now))?.userId, "u1");
  assert.equal(session.csrfToken.length >= 20, true);
  assert.equal(await getSession(kv, id, now + SESSION_TTL_MS + 1), null);
  await deleteSession(kv, id);
  assert.equal(await getSession(kv, id, now), null);
  kv.close();
});

Deno.test("rate limit: counts per subject and window", async () => {
  const kv = await Deno.openKv(":memory:");
  const limit = { max: 3, windowMs: 60_000 };
  const now = 1_000_000_000_000;
  const results = [];
  const one = (subject: string) => [{ scope: "s", subject, limit }];
  for (let i = 0; i < 5; i++) {
    results.push(await allowAttempt(kv, one("a@x"), now));
  }
  assert.deepEqual(results, [true, true, true, false, false]);
  assert.equal(
    await allowAttempt(kv, one("b@x"), now),
    true,
    "another subject has its own count",
  );
  assert.equal(
    await allowAttempt(kv, one("a@x"), now + 60_000),
    true,
    "a new window starts over",
  );
  kv.close();
});

Deno.test("secretsEqual: equal, different, different lengths", async () => {
  assert.equal(await secretsEqual("abc", "abc"), true);
  assert.equal(await secretsEqual("abc", "abd"), false);
  assert.equal(await secretsEqual("abc", "abcd"), false);
  assert.equal(await secretsEqual("", "x"), false);
});

Deno.test("session cookie: HttpOnly, SameSite=Lax; over https Secure and __Host- prefixed", () => {
  // Name=value first, then the attributes in any order.
  const parts = (c: string) => {
    const [first, ...attrs] = c.split("; ");
    return { first, attrs: new Set(attrs) };
  };
  const plain = parts(sessionCookie("abc", false));
  assert.equal(plain.first, "kc_session=abc");
  for (const a of ["Path=/", "HttpOnly", "SameSite=Lax"]) {
    assert.ok(plain.attrs.has(a), a);
  }
  assert.ok([...plain.attrs].some((a) => /^Max-Age=\d+$/.test(a)));
  assert.ok(!plain.attrs.has("Secure"));
  const secure = parts(sessionCookie("abc", true));
  assert.equal(secure.first, "__Host-kc_session=abc");
  assert.ok(secure.attrs.has("Secure") && secure.attrs.has("Path=/"));
  const cleared = parts(clearSessionCookie(true));
  assert.equal(cleared.first, "__Host-kc_session=");
  assert.ok(cleared.attrs.has("Max-Age=0") && cleared.attrs.has("Secure"));
});

Deno.test("rate limit: 200 sign-ins at once from 200 clients, under every limit, are all counted and allowed", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const now = 1_000_000_000_000;
    const all = { max: 1_000, windowMs: 60_000 };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        allowAttempt(kv, [
          {
            scope: "client",
            subject: `10.0.0.${i}`,
            limit: { max: 5, windowMs: 60_000 },
          },
          { scope: "all", subject: "*", limit: all },
        ], now)),
    );
    assert.equal(results.filter((r) => !r).length, 0, "none refused");
    const counted = await kv.get<number>(
      keys.rateLimit("all", "*", Math.floor(now / all.windowMs)),
    );
    assert.equal(counted.value, 200);
  } finally {
    kv.close();
  }
});
