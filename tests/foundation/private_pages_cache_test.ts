// Pages and API answers for a signed-in user are never stored by a browser or
// proxy cache: after sign-out, Back must not show them again.
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";

Deno.test("signed-in pages and APIs answer Cache-Control: no-store", async () => {
  const app = await createTestApp();
  const user = await app.signIn();
  const admin = await app.signIn({ admin: true });
  const cases: [string, string][] = [
    ["/", user.cookie],
    ["/admin", admin.cookie],
    ["/admin/outbox", admin.cookie],
    ["/admin/actions", admin.cookie],
    ["/admin/instances/nope", admin.cookie],
    ["/api/instances/nope/status", user.cookie],
  ];
  for (const [path, cookie] of cases) {
    const res = await app.request(path, { headers: { cookie } });
    await res.body?.cancel();
    assert.equal(res.headers.get("cache-control"), "no-store", path);
  }
  const api = await app.api("GET", "/api/admin/scheduled-actions");
  await api.body?.cancel();
  assert.equal(api.headers.get("cache-control"), "no-store", "admin API");
  await app.close();
});

Deno.test("static files keep their own caching", async () => {
  const app = await createTestApp();
  const css = await app.request("/styles.css");
  await css.body?.cancel();
  assert.notEqual(css.headers.get("cache-control"), "no-store");
  await app.close();
});
