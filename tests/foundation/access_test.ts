import { ADMIN_BODY_BYTES } from "@/lib/web/request_limits.ts";
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { newId } from "@/lib/ids.ts";

Deno.test("roles: anonymous, user, other user, admin, token", async (t) => {
  const app = await createTestApp();
  const owner = await app.signIn({ name: "Owner" });
  const other = await app.signIn({ name: "Other" });
  const admin = await app.signIn({ admin: true });
  const instanceId = newId();
  await putInstance(app.kv, instanceId, {
    name: "Owned bot",
    ownerId: owner.user.id,
    imageTag: "t1",
  });

  await t.step(
    "anonymous: pages redirect to /login, APIs answer 401 JSON",
    async () => {
      const page = await app.request(`/claw/${instanceId}`);
      assert.equal(page.status, 303);
      assert.equal(
        page.headers.get("location"),
        `/login?next=${encodeURIComponent(`/claw/${instanceId}`)}`,
      );
      const api = await app.request("/api/admin/notices/last-run");
      assert.equal(api.status, 401);
      assert.equal((await api.json()).error, "sign in required");
      const status = await app.request(`/api/instances/${instanceId}/status`);
      assert.equal(status.status, 401);
    },
  );

  await t.step("the owner sees the workspace page", async () => {
    const res = await app.request(`/claw/${instanceId}`, {
      headers: { cookie: owner.cookie },
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Owned bot/);
  });

  await t.step(
    "another user gets 404 for someone else's instance",
    async () => {
      const page = await app.request(`/claw/${instanceId}`, {
        headers: { cookie: other.cookie },
      });
      assert.equal(page.status, 404);
      const api = await app.request(`/api/instances/${instanceId}/status`, {
        headers: { cookie: other.cookie },
      });
      assert.equal(api.status, 404);
    },
  );

  await t.step(
    "a signed-in non-admin gets 403 on admin pages and APIs",
    async () => {
      assert.equal(
        (await app.request("/admin", { headers: { cookie: owner.cookie } }))
          .status,
        403,
      );
      const api = await app.request("/api/admin/notices/last-run", {
        headers: { cookie: owner.cookie },
      });
      assert.equal(api.status, 403);
      assert.equal((await api.json()).error, "admin role required");
    },
  );

  await t.step("an admin session reaches admin pages and APIs", async () => {
    const page = await app.request("/admin", {
      headers: { cookie: admin.cookie },
    });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Owned bot/);
    assert.equal(
      (await app.request("/api/admin/notices/last-run", {
        headers: { cookie: admin.cookie },
      })).status,
      200,
    );
  });

  await t.step(
    "the bearer token reaches admin APIs; a wrong token is 401",
    async () => {
      assert.equal(
        (await app.api("GET", "/api/admin/notices/last-run")).status,
        200,
      );
      const bad = await app.request("/api/admin/notices/last-run", {
        headers: { authorization: "Bearer nope" },
      });
      assert.equal(bad.status, 401);
      assert.equal((await bad.json()).error, "invalid API token");
    },
  );

  await t.step("the token does not open admin pages or user APIs", async () => {
    const page = await app.request("/admin", {
      headers: { authorization: `Bearer ${app.adminToken}` },
    });
    assert.equal(page.status, 303);
  });
  await app.close();
});

Deno.test("csrf: cross-site posts and forms without the token are refused", async (t) => {
  const app = await createTestApp();
  const user = await app.signIn();
  const headers = (extra: Record<string, string>) => ({
    cookie: user.cookie,
    "content-type": "application/x-www-form-urlencoded",
    ...extra,
  });
  await t.step("a form from another origin", async () => {
    const res = await app.request("/logout", {
      method: "POST",
      headers: headers({ origin: "https://evil.example" }),
      body: `_csrf=${user.csrfToken}`,
    });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /cross-site request refused/);
  });
  await t.step("a same-origin form without the token", async () => {
    const res = await app.request("/logout", {
      method: "POST",
      headers: headers({ origin: ORIGIN }),
      body: "",
    });
    assert.equal(res.status, 403);
  });
  await t.step("sec-fetch-site cross-site without origin", async () => {
    const res = await app.request("/logout", {
      method: "POST",
      headers: headers({ "sec-fetch-site": "cross-site" }),
      body: `_csrf=${user.csrfToken}`,
    });
    assert.equal(res.status, 403);
  });
  await t.step(
    "a JSON call on a cookie session from another origin",
    async () => {
      const res = await app.request("/api/push-tokens", {
        method: "POST",
        headers: {
          cookie: user.cookie,
          "content-type": "application/json",
          origin: "https://evil.example",
        },
        body: JSON.stringify({ token: "ExponentPushToken[abc]" }),
      });
      assert.equal(res.status, 403);
      assert.match((await res.json()).error, /cross-site/);
    },
  );
  await t.step(
    "a non-browser client (no Origin, no Sec-Fetch-Site) may call JSON APIs",
    async () => {
      const res = await app.request("/api/push-tokens", {
        method: "POST",
        headers: { cookie: user.cookie, "content-type": "application/json" },
        body: JSON.stringify({ token: "ExponentPushToken[mobile-app-1]" }),
      });
      assert.ok(res.ok, `status ${res.status}`);
    },
  );
  await t.step(
    "the session survived: the refused sign-outs did nothing",
    async () => {
      assert.equal(
        (await app.request("/", { headers: { cookie: user.cookie } })).status,
        200,
      );
    },
  );
  await t.step("a same-origin form with the token works", async () => {
    const res = await app.request("/logout", {
      method: "POST",
      headers: headers({ origin: ORIGIN }),
      body: `_csrf=${encodeURIComponent(user.csrfToken)}`,
    });
    assert.equal(res.status, 303);
  });
  await app.close();
});

Deno.test("security headers, request id and body limit", async () => {
  const app = await createTestApp();
  const res = await app.request("/login");
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.match(res.headers.get("x-request-id") ?? "", /^[\w.-]+$/);
  const big = await app.request("/api/admin/scheduled-actions", {
    method: "POST",
    headers: {
      authorization: `Bearer ${app.adminToken}`,
      "content-type": "application/json",
    },
    body: "x".repeat(ADMIN_BODY_BYTES + 1),
  });
  assert.equal(big.status, 413);
  await app.close();
});

Deno.test("pages: 404 page, no scripts on pages without islands", async () => {
  const app = await createTestApp();
  const user = await app.signIn();
  const missing = await app.request("/no/such/page", {
    headers: { cookie: user.cookie },
  });
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /Not found/);
  const login = await (await app.request("/login")).text();
  assert.doesNotMatch(login, /<script/i);
  const home =
    await (await app.request("/", { headers: { cookie: user.cookie } })).text();
  assert.doesNotMatch(home, /<script/i);
  const css = await app.request("/styles.css");
  assert.equal(css.status, 200);
  assert.ok(css.headers.get("etag"));
  await app.close();
});
