/**
 * Every list is paged with a cap on its page size. At 10,000 users the users
 * page reads one page of KV entries whoever asks, however many ask at once:
 * what a request holds follows the page, not the store.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { countingKv } from "../helpers/kv.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { USER_PAGE_SIZE } from "@/lib/kv/users.ts";
import type { User } from "@/lib/types.ts";

async function seedUsers(kv: Deno.Kv, n: number): Promise<void> {
  const at = new Date().toISOString();
  for (let i = 0; i < n; i += 100) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(n, i + 100); j++) {
      const id = `u-${String(j).padStart(5, "0")}`;
      const user: User = {
        id,
        email: `user-${String(j).padStart(5, "0")}@example.com`,
        name: `User ${j}`,
        timeZone: null,
        role: "user",
        pushTokens: [],
        createdAt: at,
        updatedAt: at,
      };
      op.set(keys.user(id), user).set(keys.userByEmail(user.email), id);
    }
    assert.ok((await op.commit()).ok);
  }
}

function nextCursor(html: string): string | null {
  const m = html.match(/href="\/admin\/users\?cursor=([^"]+)"/);
  return m ? decodeURIComponent(m[1]) : null;
}

async function usersPage(app: TestApp, cookie: string, cursor?: string) {
  const res = await app.request(
    `/admin/users${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`,
    { headers: { cookie } },
  );
  assert.equal(res.status, 200);
  return await res.text();
}

Deno.test("users page: 10,000 users, 20 requests at once, each reads one page", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({
      admin: true,
      email: "a-admin@example.com",
    });
    await seedUsers(app.kv, 10_000);
    const counted = countingKv(app.kv);
    app.ctx.kv = counted.kv;

    const pages = await Promise.all(
      Array.from({ length: 20 }, () => usersPage(app, admin.cookie)),
    );
    // A page: its index entries, its users, each user's instance count (two
    // keys: running and destroyed), the session.
    const perRequest = counted.reads() / 20;
    assert.ok(
      perRequest <= 4 * USER_PAGE_SIZE + 10,
      `${perRequest} KV entries read per request`,
    );
    for (const html of pages) {
      assert.equal(html.match(/<tr>/g)?.length, USER_PAGE_SIZE + 1);
      assert.ok(html.length < 60_000, `a ${html.length}-character page`);
    }
  } finally {
    await app.close();
  }
});

Deno.test("users page: the pages together list every user once, in email order", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({
      admin: true,
      email: "a-admin@example.com",
    });
    await seedUsers(app.kv, 230);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const html = await usersPage(app, admin.cookie, cursor);
      pages++;
      seen.push(
        ...[
          ...html.matchAll(/<div class="muted small">([\w.-]+@example\.com)</g),
        ].map((m) => m[1]),
      );
      if (cursor) assert.match(html, /← First page/);
      cursor = nextCursor(html) ?? undefined;
    } while (cursor);
    assert.equal(pages, Math.ceil(231 / USER_PAGE_SIZE));
    assert.equal(seen.length, 231);
    assert.equal(new Set(seen).size, 231);
    assert.deepEqual(seen, [...seen].sort());
  } finally {
    await app.close();
  }
});

Deno.test("admin instances and a user's own instances: pages of a capped size, sorted by name", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({ admin: true });
    const owner = await app.signIn({ name: "Many Bots" });
    await putCatalogEntry(app.kv, "v1", { openclawVersion: "1" });
    for (let i = 0; i < 120; i++) {
      await putInstance(app.kv, `bot-${i}`, {
        name: `Bot ${String(119 - i).padStart(3, "0")}`,
        ownerId: owner.user.id,
        imageTag: "v1",
      });
    }
    const names = (html: string) =>
      [...html.matchAll(/>(Bot \d{3})</g)].map((m) => m[1]);

    const first = await (await app.request("/admin?page=1", {
      headers: { cookie: admin.cookie },
    })).text();
    assert.deepEqual(
      names(first),
      Array.from({ length: 50 }, (_, i) => `Bot ${String(i).padStart(3, "0")}`),
    );
    assert.match(first, /Page 1 of 3/);
    const last = await (await app.request("/admin?page=99", {
      headers: { cookie: admin.cookie },
    })).text();
    assert.equal(names(last).length, 20);
    assert.match(last, /Page 3 of 3/);
    const search = await (await app.request(
      `/admin?q=${encodeURIComponent(owner.user.email)}&page=2`,
      { headers: { cookie: admin.cookie } },
    )).text();
    assert.equal(names(search)[0], "Bot 050", "owners are searched by email");

    const mine = await (await app.request("/?page=3", {
      headers: { cookie: owner.cookie },
    })).text();
    assert.equal(names(mine).length, 20);
    assert.equal(names(mine)[0], "Bot 100");
    assert.match(mine, /Page 3 of 3/);
  } finally {
    await app.close();
  }
});
