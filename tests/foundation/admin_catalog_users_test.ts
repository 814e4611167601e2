import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { getCatalogEntry } from "@/lib/kv/catalog.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { newId } from "@/lib/ids.ts";

Deno.test("admin catalog page: lists tags, adds one, refuses a bad tag", async () => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true });
  const post = (fields: Record<string, string>) =>
    app.request("/admin/catalog", {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        origin: ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _csrf: admin.csrfToken, ...fields })
        .toString(),
    });
  const saved = await post({
    imageTag: "2026.12.1",
    openclawVersion: "1.10.0",
    available: "on",
  });
  assert.equal(saved.status, 303);
  assert.equal(saved.headers.get("location"), "/admin/catalog?saved=2026.12.1");
  assert.deepEqual(
    { ...(await getCatalogEntry(app.kv, "2026.12.1")), updatedAt: "" },
    {
      imageTag: "2026.12.1",
      openclawVersion: "1.10.0",
      available: true,
      updatedAt: "",
    },
  );
  const retired = await post({
    imageTag: "2026.12.1",
    openclawVersion: "1.10.0",
  });
  assert.equal(retired.status, 303);
  assert.equal(
    (await getCatalogEntry(app.kv, "2026.12.1"))!.available,
    false,
    "unticked means not available",
  );

  const bad = await post({ imageTag: "-oops", openclawVersion: "" });
  assert.equal(bad.status, 400);
  const html = await bad.text();
  assert.match(html, /imageTag: must start with a letter or digit/);
  assert.match(html, /openclawVersion: must not be empty/);
  assert.equal(await getCatalogEntry(app.kv, "-oops"), null);

  const page = await (await app.request("/admin/catalog", {
    headers: { cookie: admin.cookie },
  })).text();
  assert.match(page, /2026\.12\.1/);
  assert.match(page, /not available/);
  await app.close();
});

Deno.test("admin users page: every user with role and instance count; not for non-admins", async () => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true, name: "Ada Admin" });
  const owner = await app.signIn({
    name: "Owen Owner",
    timeZone: "Asia/Tokyo",
  });
  await putInstance(app.kv, newId(), {
    name: "bot",
    ownerId: owner.user.id,
    imageTag: "t",
  });
  await putInstance(app.kv, newId(), {
    name: "bot 2",
    ownerId: owner.user.id,
    imageTag: "t",
  });
  const res = await app.request("/admin/users", {
    headers: { cookie: admin.cookie },
  });
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /Owen Owner/);
  assert.match(html, /Asia\/Tokyo/);
  assert.match(
    html,
    new RegExp(`href="/admin\\?owner=${owner.user.id}">2<`),
  );
  assert.equal(
    (await app.request("/admin/users", { headers: { cookie: owner.cookie } }))
      .status,
    403,
  );
  assert.equal(
    (await app.request("/admin/catalog", { headers: { cookie: owner.cookie } }))
      .status,
    403,
  );
  await app.close();
});
