// Odd input answers 4xx, never a 500: malformed list cursors, a sign-in form
// sent with the wrong body type (see hostile_input_test.ts for the full table).
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";

const CURSORS = ["!!!", "A", "AB==", "%E2%82%AC", "%FF"];

Deno.test("a malformed page cursor is a 400 on admin pages", async () => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true });
  const headers = { cookie: admin.cookie };
  await (await app.api("PUT", "/api/admin/catalog/v1", {
    openclawVersion: "1.0.0",
  })).body?.cancel();
  await (await app.api("PUT", "/api/admin/instances/odd-1", {
    name: "Odd bot",
    ownerId: admin.user.id,
    imageTag: "v1",
  })).body?.cancel();
  const scheduled = await app.api("POST", "/api/admin/scheduled-actions", {
    actionType: "scheduled_restart",
    instanceIds: ["odd-1"],
    scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  assert.equal(scheduled.status, 201);
  const actionId = (await scheduled.json()).id;
  for (const c of CURSORS) {
    for (
      const path of [
        `/admin/outbox?cursor=${c}`,
        `/admin/actions?cursor=${c}`,
        `/admin/actions/${actionId}?targets=${c}`,
      ]
    ) {
      const res = await app.request(path, { headers });
      await res.body?.cancel();
      assert.equal(res.status, 400, path);
    }
  }
  await app.close();
});

Deno.test("a malformed cursor is a 400 JSON error on the admin API", async () => {
  const app = await createTestApp();
  for (const c of CURSORS) {
    const res = await app.api(
      "GET",
      `/api/admin/scheduled-actions?cursor=${c}`,
    );
    assert.equal(res.status, 400, c);
    assert.match((await res.json()).error, /cursor/);
  }
  await app.close();
});

Deno.test("a well-formed cursor still pages", async () => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true });
  const res = await app.request("/admin/actions?cursor=AA==", {
    headers: { cookie: admin.cookie },
  });
  await res.body?.cancel();
  assert.equal(res.status, 200);
  await app.close();
});

Deno.test("the sign-in form posted as anything but a form is a 415 saying what to send", async () => {
  const app = await createTestApp();
  for (
    const init of [
      { "content-type": "application/json", body: "{}" },
      { "content-type": "text/plain", body: "email=a@example.com" },
    ]
  ) {
    const res = await app.request("/login", {
      method: "POST",
      headers: { "content-type": init["content-type"], origin: ORIGIN },
      body: init.body,
    });
    assert.equal(res.status, 415, init["content-type"]);
    assert.match(
      await res.text(),
      /send the form as application\/x-www-form-urlencoded/,
    );
  }
  const junk = await app.request("/login", {
    method: "POST",
    headers: {
      "content-type": "multipart/form-data; boundary=x",
      origin: ORIGIN,
    },
    body: "junk",
  });
  assert.equal(junk.status, 400);
  assert.match(await junk.text(), /the form could not be read/);
  await app.close();
});
