// A HEAD request to a sign-in link (link checkers, mail scanners) is safe: it
// does not spend the one-time token, so the user's own click still signs in.
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { createLoginLink } from "@/lib/auth/login_links.ts";

Deno.test("a HEAD request leaves the sign-in link usable", async () => {
  const app = await createTestApp();
  const { user } = await app.signIn();
  const path = new URL(await createLoginLink(app.kv, user.id, ORIGIN)).pathname;
  const head = await app.request(path, { method: "HEAD" });
  assert.equal(head.headers.get("set-cookie"), null);
  const res = await app.request(path);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/");
  assert.match(res.headers.get("set-cookie") ?? "", /kc_session=/);
  await app.close();
});
