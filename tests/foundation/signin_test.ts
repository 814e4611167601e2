import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { putUser } from "@/lib/kv/users.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { newId } from "@/lib/ids.ts";
import { LOGIN_LINK_TTL_MS } from "@/lib/auth/login_links.ts";

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: {
    "content-type": "application/x-www-form-urlencoded",
    origin: ORIGIN,
  },
  body: new URLSearchParams(fields).toString(),
});

/** The newest sign-in link mailed to `to`, once the queued sign-in emails went out. */
async function latestLink(app: TestApp, to: string): Promise<string | null> {
  await app.queueIdle();
  const { items } = await listOutbox(app.kv, { limit: 20 });
  const mail = items.find((m) => m.kind === "email" && m.to === to);
  if (!mail || mail.kind !== "email") return null;
  return mail.text.match(/https?:\/\/\S+\/login\/[A-Za-z0-9_-]+/)?.[0] ?? null;
}

Deno.test("sign-in: request a link, follow it, reach your instances, sign out", async (t) => {
  const app = await createTestApp();
  const email = `maya-${newId().slice(-6)}@example.com`;
  const user = await putUser(app.kv, newId(), {
    email,
    name: "Maya Lindqvist",
  });
  await putInstance(app.kv, newId(), {
    name: "Maya's helper bot",
    ownerId: user.id,
    imageTag: "t1",
  });
  let cookie = "";

  await t.step("anonymous page request goes to /login", async () => {
    const res = await app.request("/");
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/login");
  });

  await t.step(
    "asking for a link sends it through the configured sender",
    async () => {
      const res = await app.request(
        "/login",
        form({ email: email.toUpperCase() }),
      );
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /sign-in link is on its way/);
      // Why a link may not come, said the same way for every address.
      assert.match(html, /at most 5\s+links in 15\s+minutes/);
      assert.match(html, /<a href="\/login">Use another address<\/a>/);
      assert.ok(await latestLink(app, email), "the outbox holds the link");
    },
  );

  await t.step("following it starts a session and lands on /", async () => {
    const link = (await latestLink(app, email))!;
    const res = await app.request(new URL(link).pathname);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/");
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.doesNotMatch(setCookie, /Secure/, "plain http locally");
    cookie = setCookie.split(";")[0];
    const home = await app.request("/", { headers: { cookie } });
    assert.equal(home.status, 200);
    const html = await home.text();
    assert.match(html, /Your instances/);
    assert.match(html, /Maya&#39;s helper bot|Maya's helper bot/);
  });

  await t.step("the same link does not work twice", async () => {
    const link = (await latestLink(app, email))!;
    const res = await app.request(new URL(link).pathname);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/login?failed=1");
    assert.equal(res.headers.get("set-cookie"), null);
  });

  await t.step(
    "sign out deletes the session; the old cookie no longer works",
    async () => {
      const page = await (await app.request("/", { headers: { cookie } }))
        .text();
      const csrf = page.match(/name="_csrf" value="([^"]+)"/)?.[1];
      assert.ok(csrf, "the page carries the form token");
      const res = await app.request("/logout", {
        ...form({ _csrf: csrf! }),
        headers: { ...form({}).headers, cookie },
      });
      assert.equal(res.status, 303);
      assert.match(res.headers.get("set-cookie") ?? "", /Max-Age=0/);
      const after = await app.request("/", { headers: { cookie } });
      assert.equal(after.status, 303);
      assert.equal(after.headers.get("location"), "/login");
    },
  );
  await app.close();
});

Deno.test("sign-in: unknown address gets the same answer and no email", async () => {
  const app = await createTestApp();
  const known = `known-${newId().slice(-6)}@example.com`;
  await putUser(app.kv, newId(), { email: known });
  const a = await (await app.request("/login", form({ email: known }))).text();
  const b =
    await (await app.request("/login", form({ email: "nobody@example.com" })))
      .text();
  const strip = (s: string) => s.replace(/<strong>[^<]*<\/strong>/, "");
  assert.equal(strip(a), strip(b));
  assert.equal(await latestLink(app, "nobody@example.com"), null);
  await app.close();
});

Deno.test("sign-in: an expired link fails", async () => {
  let clock = Date.parse("2026-11-25T10:00:00Z");
  const app = await createTestApp({ context: { now: () => clock } });
  const email = `late-${newId().slice(-6)}@example.com`;
  await putUser(app.kv, newId(), { email });
  await app.request("/login", form({ email }));
  const link = (await latestLink(app, email))!;
  clock += LOGIN_LINK_TTL_MS + 1000;
  const res = await app.request(new URL(link).pathname);
  assert.equal(res.headers.get("location"), "/login?failed=1");
  await app.close();
});

Deno.test("sign-in: attempts are limited per address", async () => {
  const app = await createTestApp();
  const email = `busy-${newId().slice(-6)}@example.com`;
  await putUser(app.kv, newId(), { email });
  for (let i = 0; i < 8; i++) await app.request("/login", form({ email }));
  await app.queueIdle();
  const { items } = await listOutbox(app.kv, { limit: 50 });
  assert.equal(items.filter((m) => m.to === email).length, 5);
  await app.close();
});

Deno.test("sign-in: ADMIN_EMAILS addresses become admins on first request", async () => {
  const app = await createTestApp({
    config: { adminEmails: ["boss@example.com"] },
  });
  await app.request("/login", form({ email: "boss@example.com" }));
  const link = (await latestLink(app, "boss@example.com"))!;
  const res = await app.request(new URL(link).pathname);
  const cookie = res.headers.get("set-cookie")!.split(";")[0];
  const admin = await app.request("/admin", { headers: { cookie } });
  assert.equal(admin.status, 200);
  await app.close();
});

Deno.test("sign-in: a bad address is refused with a readable message", async () => {
  const app = await createTestApp();
  const res = await app.request("/login", form({ email: "not an email" }));
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Enter a valid email address/);
  await app.close();
});

Deno.test("sign-in: the page answers without waiting for the email, known address or not", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const sent: string[] = [];
  const app = await createTestApp({
    context: {
      email: {
        name: "held",
        async send(message) {
          await gate; // the provider is slow
          sent.push(message.to);
          return { ok: true, id: "held-1" };
        },
        sendBatch() {
          return Promise.resolve({
            ok: false,
            transient: false,
            error: "not used",
          });
        },
      },
    },
  });
  const email = `slow-${newId().slice(-6)}@example.com`;
  await putUser(app.kv, newId(), { email });
  const known = await app.request("/login", form({ email }));
  const unknown = await app.request(
    "/login",
    form({ email: "nobody@example.com" }),
  );
  assert.equal(known.status, 200);
  assert.equal(unknown.status, 200);
  await known.body?.cancel();
  await unknown.body?.cancel();
  assert.deepEqual(
    sent,
    [],
    "both answered while the email was still on its way",
  );
  release();
  await app.queueIdle();
  assert.deepEqual(sent, [email], "only the known address gets an email");
  await app.close();
});

Deno.test("sign-in over https: the __Host- cookie is the one that signs you in", async () => {
  const app = await createTestApp({ config: { secureCookies: true } });
  const email = `secure-${newId().slice(-6)}@example.com`;
  await putUser(app.kv, newId(), { email });
  await app.request("/login", form({ email }));
  const link = (await latestLink(app, email))!;
  const res = await app.request(new URL(link).pathname);
  const setCookie = res.headers.get("set-cookie") ?? "";
  assert.match(setCookie, /^__Host-kc_session=[\w-]+; /);
  const attrs = new Set(setCookie.split("; ").slice(1));
  for (const a of ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"]) {
    assert.ok(attrs.has(a), `${a} in ${setCookie}`);
  }
  const cookie = setCookie.split(";")[0];
  assert.equal((await app.request("/", { headers: { cookie } })).status, 200);
  const plain = cookie.replace("__Host-", "");
  assert.equal(
    (await app.request("/", { headers: { cookie: plain } })).status,
    303,
    "the unprefixed name is ignored",
  );
  await app.close();
});
