/**
 * Login CSRF: a browser signed in as one account that opens a sign-in link
 * of another is asked before it is switched. Showing the question (GET, and
 * HEAD) never spends the link; only the answer, a POST from the app's own
 * page with the session's form token, does. With no session, or a session
 * of the link's own account, the link signs in at once, as always.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { expectAccessible, watch } from "../helpers/e2e.ts";
import { createLoginLink, peekLoginLink } from "@/lib/auth/login_links.ts";
import { SESSION_COOKIE } from "@/lib/auth/sessions.ts";

/** The path of a fresh sign-in link for `userId`, headed for `next`. */
async function linkFor(app: TestApp, userId: string, next = "/") {
  return new URL(
    await createLoginLink(app.kv, userId, ORIGIN, Date.now(), next),
  ).pathname;
}

/** Whether the link at `path` still signs in (read without spending it). */
async function usable(app: TestApp, path: string): Promise<boolean> {
  return (await peekLoginLink(app.kv, path.split("/").at(-1)!)) !== null;
}

/** Who a cookie is signed in as, as the page header says; null when signed out. */
async function whoIs(app: TestApp, cookie: string): Promise<string | null> {
  const res = await app.request("/", { headers: { cookie } });
  if (res.status === 303) {
    await res.body?.cancel();
    return null;
  }
  assert.equal(res.status, 200);
  const m = (await res.text()).match(/<span class="muted who">([^<]+)</);
  assert.ok(m, "the page names who is signed in");
  return m[1];
}

function newCookie(res: Response): string {
  const set = res.headers.get("set-cookie") ?? "";
  const m = set.match(new RegExp(`${SESSION_COOKIE}=([^;]+)`));
  assert.ok(m, `a session cookie is set: ${set}`);
  return `${SESSION_COOKIE}=${m[1]}`;
}

Deno.test("a link of another account asks before switching, and only the answer spends it", async (t) => {
  const app = await createTestApp();
  try {
    const victim = await app.signIn({
      email: "victim@example.test",
      name: "Vic Tim",
    });
    const attacker = await app.signIn({ email: "attacker@example.test" });
    const path = await linkFor(app, attacker.user.id, "/settings");

    await t.step(
      "GET shows who is signed in and whom the link is for, and spends nothing",
      async () => {
        for (let i = 0; i < 2; i++) {
          const res = await app.request(path, {
            headers: { cookie: victim.cookie },
          });
          assert.equal(res.status, 200);
          assert.equal(res.headers.get("set-cookie"), null);
          const html = await res.text();
          assert.match(html, /Switch account\?/);
          assert.match(
            html,
            /signed in as <strong>Vic Tim &lt;victim@example\.test><\/strong>/,
          );
          assert.match(
            html,
            /link is for <strong>attacker@example\.test<\/strong>/,
          );
          assert.match(html, /<form method="post"/);
          assert.match(html, /name="_csrf" value="[\w-]+"/);
        }
        const head = await app.request(path, {
          method: "HEAD",
          headers: { cookie: victim.cookie },
        });
        assert.equal(head.headers.get("set-cookie"), null);
        assert.ok(await usable(app, path));
        assert.equal(await whoIs(app, victim.cookie), "victim@example.test");
      },
    );

    await t.step(
      "a POST without the session's form token, or from another site, is refused and spends nothing",
      async () => {
        const forged = [
          { origin: ORIGIN, body: "" },
          { origin: ORIGIN, body: "_csrf=not-the-token" },
          { origin: "https://evil.example", body: `_csrf=${victim.csrfToken}` },
        ];
        for (const f of forged) {
          const res = await app.request(path, {
            method: "POST",
            headers: {
              cookie: victim.cookie,
              origin: f.origin,
              "content-type": "application/x-www-form-urlencoded",
            },
            body: f.body,
          });
          assert.equal(res.status, 403, JSON.stringify(f));
          assert.equal(res.headers.get("set-cookie"), null);
          await res.body?.cancel();
        }
        assert.ok(await usable(app, path));
        assert.equal(await whoIs(app, victim.cookie), "victim@example.test");
      },
    );

    await t.step(
      "the answer switches: the old session ends, the link is spent",
      async () => {
        const res = await app.request(path, {
          method: "POST",
          headers: {
            cookie: victim.cookie,
            origin: ORIGIN,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: `_csrf=${encodeURIComponent(victim.csrfToken)}`,
        });
        assert.equal(res.status, 303);
        assert.equal(res.headers.get("location"), "/settings");
        assert.equal(
          await whoIs(app, newCookie(res)),
          "attacker@example.test",
        );
        assert.equal(await whoIs(app, victim.cookie), null);
        assert.ok(!(await usable(app, path)));
        const again = await app.request(path);
        assert.equal(again.headers.get("location"), "/login?failed=1");
      },
    );
  } finally {
    await app.close();
  }
});

Deno.test("with no session, or one of the link's own account, the link signs in at once", async () => {
  const app = await createTestApp();
  try {
    const me = await app.signIn({ email: "me@example.test" });
    const own = await linkFor(app, me.user.id);
    const res = await app.request(own, { headers: { cookie: me.cookie } });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/");
    assert.equal(await whoIs(app, newCookie(res)), "me@example.test");
    assert.ok(!(await usable(app, own)));

    const fresh = await linkFor(app, me.user.id);
    const anonymous = await app.request(fresh);
    assert.equal(anonymous.status, 303);
    assert.equal(await whoIs(app, newCookie(anonymous)), "me@example.test");
    assert.ok(!(await usable(app, fresh)));
  } finally {
    await app.close();
  }
});

Deno.test({
  name:
    "browser: a signed-in owner opening someone else's link is asked, and stays unless they choose to switch",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp();
    const owner = await app.signIn({ email: "owner@example.test" });
    const other = await app.signIn({ email: "other@example.test" });
    await app.serve(async (origin) => {
      const browser = await launchBrowser();
      try {
        const context = await browser.newContext();
        await context.addCookies([{
          name: SESSION_COOKIE,
          value: owner.cookie.split("=")[1],
          url: origin,
          httpOnly: true,
          sameSite: "Lax",
        }]);
        const page = await context.newPage();
        const errors = watch(page);
        const path = await linkFor(app, other.user.id);
        await page.goto(`${origin}${path}`);
        await page.getByRole("heading", { name: "Switch account?" }).waitFor();
        await expectAccessible(page, "the switch-account question");
        await page.getByRole("link", {
          name: "Stay signed in as owner@example.test",
        }).click();
        await page.waitForURL(`${origin}/`);
        assert.equal(await whoIs(app, owner.cookie), "owner@example.test");
        assert.ok(await usable(app, path), "staying leaves the link unspent");

        await page.goto(`${origin}${path}`);
        await page.getByRole("button", {
          name: "Sign in as other@example.test",
        })
          .click();
        await page.waitForURL(`${origin}/`);
        const cookie = (await context.cookies(origin)).find((c) =>
          c.name === SESSION_COOKIE
        )!;
        assert.equal(
          await whoIs(app, `${SESSION_COOKIE}=${cookie.value}`),
          "other@example.test",
        );
        assert.ok(!(await usable(app, path)));
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    });
    await app.close();
  },
});
