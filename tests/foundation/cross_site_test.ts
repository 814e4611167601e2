/**
 * Cross-site requests: a state-changing request with a session is accepted
 * only when the browser says it comes from PUBLIC_URL's origin. Every
 * combination of Origin, Sec-Fetch-Site and the Host the request was sent to
 * is tried on a JSON endpoint and on a page form; what the request says about
 * its own host never counts.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";

const ORIGINS: (string | null)[] = [
  null,
  ORIGIN,
  "http://evil.example",
  "https://localhost:8000",
  "http://localhost:8001",
  "http://localhost:8000.evil.example",
  "http://LOCALHOST:8000",
  "null",
  `${ORIGIN}/`,
  "http://127.0.0.1:8000",
];
const FETCH_SITES: (string | null)[] = [
  null,
  "same-origin",
  "none",
  "same-site",
  "cross-site",
  "bogus",
];
/** The host the request was addressed to (what a server reads from Host). */
const HOSTS = ["localhost:8000", "evil.example", "127.0.0.1:8000"];

function allowed(origin: string | null, fetchSite: string | null): boolean {
  return (origin === null || origin === ORIGIN) &&
    (fetchSite === null || fetchSite === "same-origin" || fetchSite === "none");
}

interface Target {
  name: string;
  send(
    app: TestApp,
    host: string,
    headers: Record<string, string>,
  ): Promise<Response>;
  accepted: number;
}

async function setUp() {
  const app = await createTestApp();
  const user = await app.signIn();
  const admin = await app.signIn({ admin: true });
  const info = {
    remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 1 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
  const at = (host: string, path: string, init: RequestInit) =>
    app.handler(
      new Request(`http://${host}${path}`, {
        ...init,
        headers: { ...init.headers as Record<string, string>, host },
      }),
      info,
    );
  const targets: Target[] = [
    {
      name: "JSON: register a push token",
      send: (_app, host, headers) =>
        at(host, "/api/push-tokens", {
          method: "POST",
          headers: {
            cookie: user.cookie,
            "content-type": "application/json",
            ...headers,
          },
          body: JSON.stringify({ token: "ExponentPushToken[cross-site-0001]" }),
        }),
      accepted: 200,
    },
    {
      name: "form: save a catalog tag",
      send: (_app, host, headers) =>
        at(host, "/admin/catalog", {
          method: "POST",
          headers: {
            cookie: admin.cookie,
            "content-type": "application/x-www-form-urlencoded",
            ...headers,
          },
          body: new URLSearchParams({
            _csrf: admin.csrfToken,
            imageTag: "v1",
            openclawVersion: "1.0.0",
          }).toString(),
        }),
      accepted: 303,
    },
  ];
  return { app, targets };
}

Deno.test("cross-site: every Origin, Sec-Fetch-Site and Host combination", async (t) => {
  const { app, targets } = await setUp();
  try {
    let refused = 0;
    let accepted = 0;
    for (const target of targets) {
      await t.step(target.name, async () => {
        for (const host of HOSTS) {
          for (const origin of ORIGINS) {
            for (const fetchSite of FETCH_SITES) {
              const headers: Record<string, string> = {};
              if (origin !== null) headers.origin = origin;
              if (fetchSite !== null) headers["sec-fetch-site"] = fetchSite;
              const res = await target.send(app, host, headers);
              const text = await res.text();
              const what =
                `host ${host}, origin ${origin}, sec-fetch-site ${fetchSite}`;
              if (allowed(origin, fetchSite)) {
                assert.equal(res.status, target.accepted, `${what}: ${text}`);
                accepted++;
              } else {
                assert.equal(res.status, 403, what);
                assert.match(
                  text,
                  /cross-site request refused: changes are accepted from http:\/\/localhost:8000 only/,
                  what,
                );
                refused++;
              }
            }
          }
        }
      });
    }
    assert.equal(accepted + refused, 2 * 3 * 10 * 6);
    assert.ok(accepted > 0 && refused > accepted);
  } finally {
    await app.close();
  }
});

Deno.test("cross-site: behind a proxy, the allowed origin is PUBLIC_URL's, whatever host the app sees", async () => {
  const app = await createTestApp({
    config: { publicUrl: "https://claw.example.com" },
  });
  try {
    const user = await app.signIn();
    const post = (origin: string) =>
      app.request("/api/push-tokens", {
        method: "POST",
        headers: {
          cookie: user.cookie,
          "content-type": "application/json",
          origin,
        },
        body: JSON.stringify({ token: "ExponentPushToken[proxied-0001]" }),
      });
    const ok = await post("https://claw.example.com");
    assert.equal(ok.status, 200, await ok.text());
    // The address the request reached is not an origin the app answers to.
    const direct = await post(ORIGIN);
    assert.equal(direct.status, 403);
    assert.match((await direct.json()).error, /https:\/\/claw\.example\.com/);
  } finally {
    await app.close();
  }
});

Deno.test("cross-site: safe methods are never refused, whatever the headers", async () => {
  const { app } = await setUp();
  try {
    const user = await app.signIn();
    for (const method of ["GET", "HEAD", "OPTIONS"]) {
      const res = await app.request("/", {
        method,
        headers: {
          cookie: user.cookie,
          origin: "http://evil.example",
          "sec-fetch-site": "cross-site",
        },
      });
      await res.body?.cancel();
      assert.notEqual(res.status, 403, method);
    }
  } finally {
    await app.close();
  }
});
