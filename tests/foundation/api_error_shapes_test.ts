/**
 * DESIGN "Admin JSON API": errors are JSON `{error, issues?}`: an
 * unknown API path or a wrong method must answer JSON like every other API
 * error, never an HTML page, and never a 500 for a missing sign-in.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";

async function assertJsonError(res: Response, status: number) {
  assert.equal(res.status, status, `status of ${res.url}`);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await res.json();
  assert.equal(typeof body.error, "string");
  assert.deepEqual(
    Object.keys(body).filter((k) => k !== "error" && k !== "issues"),
    [],
  );
}

Deno.test("unknown API paths and wrong methods answer JSON errors", async () => {
  const app = await createTestApp();
  try {
    // Signed out: not a 500 error page.
    for (const path of ["/api/admin/nope", "/api/nope", "/api/internal/nope"]) {
      const res = await app.request(path);
      assert.notEqual(res.status, 500, path);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      await res.body?.cancel();
    }
    await assertJsonError(await app.api("GET", "/api/admin/nope"), 404);
    const wrong = await app.api("DELETE", "/api/admin/scheduled-actions");
    assert.ok(wrong.headers.get("allow"), "405 keeps its Allow header");
    await assertJsonError(wrong, 405);
  } finally {
    await app.close();
  }
});
