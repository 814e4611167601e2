/**
 * Who is who: the API token's actor is no user's, a deleted user's sessions
 * end with them (and never come back with a new user of the same id).
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { addPushToken, putUser } from "@/lib/kv/users.ts";
import { API_TOKEN_ACTOR_ID } from "@/lib/ids.ts";
import type { User } from "@/lib/types.ts";

async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix })) n++;
  return n;
}

Deno.test("the API token's actor is reserved: no user takes it, and a stray one is not shown as the author", async () => {
  const app = await createTestApp();
  try {
    const refused = await app.api("PUT", "/api/admin/users/api-token", {
      email: "impostor@example.com",
    });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error, /reserved/);
    assert.equal(await countKeys(app.kv, keys.users()), 0);

    // A user record with that id from before the rule existed.
    const stray: User = {
      id: API_TOKEN_ACTOR_ID,
      email: "impostor@example.com",
      name: "Impostor",
      timeZone: null,
      role: "user",
      pushTokens: [],
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    await app.kv.set(keys.user(stray.id), stray);
    const owner = await app.signIn();
    await putCatalogEntry(app.kv, "v1", { openclawVersion: "1" });
    await putInstance(app.kv, "bot-1", {
      name: "bot",
      ownerId: owner.user.id,
      imageTag: "v1",
    });
    const res = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: ["bot-1"],
      scheduledAt: new Date(Date.now() + 7200_000).toISOString(),
    });
    assert.equal(res.status, 201);
    const { id } = await res.json();
    const admin = await app.signIn({ admin: true });
    const page = await (await app.request(`/admin/actions/${id}`, {
      headers: { cookie: admin.cookie },
    })).text();
    assert.match(page, /by the admin API token/);
    assert.doesNotMatch(page, /impostor@example\.com/);
  } finally {
    await app.close();
  }
});

Deno.test("deleting a user ends every session they had, and a new user with the same id does not get them back", async () => {
  const app = await createTestApp();
  try {
    const a = await app.signIn({ email: "gone@example.com" });
    const second = await app.signIn({ email: "stays@example.com" });
    await addPushToken(app.kv, a.user.id, "ExponentPushToken[gone-device-01]");
    const status = (cookie: string) =>
      app.request("/", { headers: { cookie } }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      });
    assert.equal(await status(a.cookie), 200);
    assert.equal(
      await countKeys(app.kv, keys.sessionsByUser(a.user.id)),
      1,
      "the session is indexed under its user",
    );

    const del = await app.api("DELETE", `/api/admin/users/${a.user.id}`);
    assert.equal(del.status, 200);
    await del.body?.cancel();
    assert.equal(await countKeys(app.kv, keys.sessionsByUser(a.user.id)), 0);
    assert.equal(
      await countKeys(app.kv, ["sessions"]),
      1,
      "only the other user's session is left",
    );
    assert.equal(
      (await app.kv.get(
        keys.pushTokenOwner("ExponentPushToken[gone-device-01]"),
      ))
        .value,
      null,
      "the device no longer points at the deleted user",
    );
    assert.equal(await status(a.cookie), 303, "signed out");
    assert.equal(await status(second.cookie), 200, "others stay signed in");

    const again = await app.api("PUT", `/api/admin/users/${a.user.id}`, {
      email: "newcomer@example.com",
    });
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal(await status(a.cookie), 303, "still signed out");
  } finally {
    await app.close();
  }
});

Deno.test("a session left behind by a deleted user is refused once a new user takes the id", async () => {
  const app = await createTestApp();
  try {
    const a = await app.signIn({ email: "old@example.com" });
    // The record goes without its sessions (a crash between the two writes).
    await app.kv.delete(keys.user(a.user.id));
    await app.kv.delete(keys.userByEmail("old@example.com"));
    await new Promise((r) => setTimeout(r, 2));
    await putUser(app.kv, a.user.id, { email: "new@example.com" });
    const res = await app.request("/", { headers: { cookie: a.cookie } });
    await res.body?.cancel();
    assert.equal(res.status, 303);
  } finally {
    await app.close();
  }
});

Deno.test("signing out removes the session and its index entry", async () => {
  const app = await createTestApp();
  try {
    const a = await app.signIn();
    const res = await app.request("/logout", {
      method: "POST",
      headers: {
        cookie: a.cookie,
        origin: ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _csrf: a.csrfToken }).toString(),
    });
    assert.equal(res.status, 303);
    assert.equal(await countKeys(app.kv, ["sessions"]), 0);
    assert.equal(await countKeys(app.kv, keys.sessionsByUser(a.user.id)), 0);
  } finally {
    await app.close();
  }
});
