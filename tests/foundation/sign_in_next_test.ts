// Where sign-in sends the user afterwards (`next`): always a path on this site,
// and an odd value falls back to `/` instead of breaking the page.
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { createLoginLink } from "@/lib/auth/login_links.ts";
import { safeNext } from "@/lib/auth/next.ts";

Deno.test("next: other sites are never a destination", () => {
  for (
    const bad of [
      "https://evil.example/",
      "//evil.example/",
      "/\\evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/..//evil.example",
      "/.//evil.example",
      "/%2e%2e//evil.example",
      "/a/../..//evil.example",
      "javascript:alert(1)",
      "",
      null,
    ]
  ) {
    assert.equal(safeNext(bad), "/", JSON.stringify(bad));
  }
});

Deno.test("next: a same-site path survives, percent-encoded for the Location header", () => {
  assert.equal(safeNext("/claw/abc?x=1#top"), "/claw/abc?x=1#top");
  assert.equal(safeNext("/admin/instances/é"), "/admin/instances/%C3%A9");
  assert.equal(safeNext("/a\u0000b"), "/");
});

Deno.test("next: a signed-in visit to /login with a non-ASCII next redirects instead of failing", async () => {
  const app = await createTestApp();
  const user = await app.signIn();
  for (const next of ["/€", "/a%00b", "/x\u0001y"]) {
    const res = await app.request(
      `/login?next=${encodeURIComponent(next)}`,
      { headers: { cookie: user.cookie } },
    );
    assert.equal(res.status, 303, next);
    const location = res.headers.get("location")!;
    assert.match(location, /^\/(?!\/)[\x21-\x7e]*$/, location);
  }
  await app.close();
});

Deno.test("next: a sign-in link whose next is not ASCII still signs the user in", async () => {
  const app = await createTestApp();
  const user = await app.signIn();
  const link = await createLoginLink(
    app.kv,
    user.user.id,
    ORIGIN,
    Date.now(),
    "/claw/€",
  );
  const res = await app.request(new URL(link).pathname);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/claw/%E2%82%AC");
  assert.match(res.headers.get("set-cookie") ?? "", /kc_session=/);
  await app.close();
});
