/**
 * The access matrix: every route of fresh.gen.ts, with every method it
 * serves, asked by each of six callers, answers the status its rule says.
 * A route (or a method) added without a rule here fails the test, so access
 * is decided on purpose for everything the app serves.
 */
import assert from "node:assert/strict";
import manifest from "@/fresh.gen.ts";
import {
  createWorld,
  IDENTITIES,
  type Identity,
  requestAs,
  type Send,
  sessionOf,
  type World,
} from "../helpers/identities.ts";
import { createSession, SESSION_COOKIE } from "@/lib/auth/sessions.ts";
import { newId } from "@/lib/ids.ts";
import { SCALAR_SCRIPT_URL } from "@/lib/openapi/reference_files.ts";

/** A status, or "login": a 303 to the sign-in page. */
type Expect = number | "login";
type Row = [Expect, Expect, Expect, Expect, Expect, Expect];

interface Rule {
  path: (w: World) => string;
  send?: (w: World) => Send;
  /** anonymous, user (the owner), other user, admin, API token, internal secret. */
  expect: Row;
  /** Each signed-in caller uses a session of its own (the request ends it). */
  ownSession?: true;
}

const ADMIN_PAGE: Row = ["login", 403, 403, 200, "login", "login"];
const ADMIN_API: Row = [401, 403, 403, 200, 200, 401];
const USER_PAGE: Row = ["login", 200, 200, 200, "login", "login"];

const SETTINGS = {
  timeZone: "Europe/Berlin",
  maintenanceWindow: null,
  channels: { email: true, mobile_push: true },
  quietHours: null,
};

const SETTINGS_FORM = {
  timeZone: "Europe/Berlin",
  window: "any",
  email: "on",
  mobile_push: "on",
};

const RULES: Record<string, Rule> = {
  "GET ./routes/index.tsx": { path: () => "/", expect: USER_PAGE },
  "GET ./routes/login.tsx": {
    path: () => "/login",
    // Signed in already: on to where they were going.
    expect: [200, 303, 303, 303, 200, 200],
  },
  "POST ./routes/login.tsx": {
    path: () => "/login",
    send: () => ({ method: "POST", form: { email: "someone@example.com" } }),
    expect: [200, 200, 200, 200, 200, 200],
  },
  "GET ./routes/healthz.ts": {
    path: () => "/healthz",
    // For monitors: no sign-in, the same answer for everyone.
    expect: [200, 200, 200, 200, 200, 200],
  },
  "GET ./routes/login/[token].tsx": {
    path: () => "/login/not-a-real-token-0123456789",
    expect: [303, 303, 303, 303, 303, 303],
  },
  "POST ./routes/login/[token].tsx": {
    path: () => "/login/not-a-real-token-0123456789",
    send: () => ({ method: "POST", form: {} }),
    expect: [303, 303, 303, 303, 303, 303],
  },
  "HEAD ./routes/login/[token].tsx": {
    path: () => "/login/not-a-real-token-0123456789",
    send: () => ({ method: "HEAD" }),
    expect: [200, 200, 200, 200, 200, 200],
  },
  "POST ./routes/logout.ts": {
    path: () => "/logout",
    send: () => ({ method: "POST", form: {} }),
    expect: [303, 303, 303, 303, 303, 303],
    ownSession: true,
  },
  "GET ./routes/settings.tsx": { path: () => "/settings", expect: USER_PAGE },
  "POST ./routes/settings.tsx": {
    // The form without JavaScript: saved, then back to the page.
    path: () => "/settings",
    send: () => ({ method: "POST", form: SETTINGS_FORM }),
    expect: ["login", 303, 303, 303, "login", "login"],
  },
  "POST ./routes/admin/users/[id]/settings.tsx": {
    path: (w) => `/admin/users/${w.owner.user.id}/settings`,
    send: () => ({ method: "POST", form: SETTINGS_FORM }),
    expect: ["login", 403, 403, 303, "login", "login"],
  },
  "GET ./routes/admin/users/[id]/settings.tsx": {
    path: (w) => `/admin/users/${w.owner.user.id}/settings`,
    expect: ADMIN_PAGE,
  },
  "GET ./routes/unsubscribe/[token].tsx": {
    // Opening the link leads to the settings page, which asks for sign-in.
    path: () => "/unsubscribe/not-a-signed-token",
    expect: [303, 303, 303, 303, 303, 303],
  },
  "POST ./routes/unsubscribe/[token].tsx": {
    // No cookie or Origin needed (RFC 8058); without the right signature nothing changes.
    path: () => "/unsubscribe/AAAA.email.bm9ib2R5",
    send: () => ({ method: "POST", form: { "List-Unsubscribe": "One-Click" } }),
    expect: [404, 404, 404, 404, 404, 404],
  },
  "GET ./routes/postpone/[token].tsx": {
    // The email's "Change the time": sign-in first; a token not signed for the caller is a 404.
    path: () => "/postpone/AAAA.bm9ib2R5.bm9ib2R5",
    expect: ["login", 404, 404, 404, "login", "login"],
  },
  "POST ./routes/postpone/[token].tsx": {
    path: () => "/postpone/AAAA.bm9ib2R5.bm9ib2R5",
    send: () => ({ method: "POST", form: { postponeTo: "other" } }),
    expect: ["login", 404, 404, 404, "login", "login"],
  },
  "GET ./routes/api/me/settings.ts": {
    path: () => "/api/me/settings",
    expect: [401, 200, 200, 200, 401, 401],
  },
  "PUT ./routes/api/me/settings.ts": {
    path: () => "/api/me/settings",
    send: () => ({ method: "PUT", json: SETTINGS }),
    expect: [401, 200, 200, 200, 401, 401],
  },
  "GET ./routes/api/admin/users/[id]/settings.ts": {
    path: (w) => `/api/admin/users/${w.owner.user.id}/settings`,
    expect: ADMIN_API,
  },
  "PUT ./routes/api/admin/users/[id]/settings.ts": {
    path: (w) => `/api/admin/users/${w.owner.user.id}/settings`,
    send: () => ({ method: "PUT", json: SETTINGS }),
    expect: ADMIN_API,
  },
  "GET ./routes/calendar/[targetId]/[file].ts": {
    path: () => `/calendar/${newId()}/not-a-valid-signature.ics`,
    // Signed links need no sign-in; without the right signature nothing is there.
    expect: [404, 404, 404, 404, 404, 404],
  },
  "GET ./routes/claw/[instanceId].tsx": {
    path: (w) => `/claw/${w.instanceId}`,
    // Someone else's instance, admins' included, is a 404 like a missing one.
    expect: ["login", 200, 404, 404, "login", "login"],
  },
  "GET ./routes/admin/index.tsx": { path: () => "/admin", expect: ADMIN_PAGE },
  "GET ./routes/admin/actions/index.tsx": {
    path: () => "/admin/actions",
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/actions/new.tsx": {
    path: () => "/admin/actions/new",
    expect: ADMIN_PAGE,
  },
  "POST ./routes/admin/actions/new.tsx": {
    path: () => "/admin/actions/new",
    send: () => ({ method: "POST", form: { intent: "review" } }),
    // Past the gate, a form that chose nothing is shown again with its errors.
    expect: ["login", 403, 403, 400, "login", "login"],
  },
  "GET ./routes/admin/actions/[id].tsx": {
    path: (w) => `/admin/actions/${w.actionId}`,
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/audit.tsx": {
    path: () => "/admin/audit",
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/api/index.tsx": {
    path: () => "/admin/api",
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/api/[file].ts": {
    path: () => SCALAR_SCRIPT_URL,
    expect: ADMIN_PAGE,
  },
  "GET ./routes/api/openapi.json.ts": {
    path: () => "/api/openapi.json",
    // It describes the API and holds no data: no sign-in, the same for everyone.
    expect: [200, 200, 200, 200, 200, 200],
  },
  "GET ./routes/api/admin/audit/index.ts": {
    path: () => "/api/admin/audit",
    expect: ADMIN_API,
  },
  "POST ./routes/admin/actions/[id].tsx": {
    path: () => `/admin/actions/${newId()}`,
    send: () => ({ method: "POST", form: { intent: "cancel" } }),
    expect: ["login", 403, 403, 404, "login", "login"],
  },
  "GET ./routes/admin/previews/[hash].ts": {
    path: () => `/admin/previews/${"0".repeat(32)}`,
    // An expired (or never made) preview is a 404 once past the gate.
    expect: ["login", 403, 403, 404, "login", "login"],
  },
  "GET ./routes/admin/catalog.tsx": {
    path: () => "/admin/catalog",
    expect: ADMIN_PAGE,
  },
  "POST ./routes/admin/catalog.tsx": {
    path: () => "/admin/catalog",
    send: () => ({
      method: "POST",
      form: { imageTag: "v1", openclawVersion: "1.0.0", available: "on" },
    }),
    expect: ["login", 403, 403, 303, "login", "login"],
  },
  "GET ./routes/admin/instances/[id].tsx": {
    path: (w) => `/admin/instances/${w.instanceId}`,
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/outbox/index.tsx": {
    path: () => "/admin/outbox",
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/outbox/[id].tsx": {
    path: (w) => `/admin/outbox/${w.outboxId}`,
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/outbox/[id]/html.ts": {
    path: (w) => `/admin/outbox/${w.outboxId}/html`,
    expect: ADMIN_PAGE,
  },
  "GET ./routes/admin/webhooks/index.tsx": {
    path: () => "/admin/webhooks",
    expect: ADMIN_PAGE,
  },
  "POST ./routes/admin/webhooks/index.tsx": {
    path: () => "/admin/webhooks",
    send: () => ({
      method: "POST",
      form: { url: "https://hooks.example.com/access", kind: "standard" },
    }),
    // The page with the new endpoint's secret, shown this once.
    expect: ["login", 403, 403, 201, "login", "login"],
  },
  "GET ./routes/admin/webhooks/[id].tsx": {
    path: () => `/admin/webhooks/${newId()}`,
    expect: ["login", 403, 403, 404, "login", "login"],
  },
  "POST ./routes/admin/webhooks/[id].tsx": {
    path: () => `/admin/webhooks/${newId()}`,
    send: () => ({ method: "POST", form: { intent: "test" } }),
    expect: ["login", 403, 403, 404, "login", "login"],
  },
  "GET ./routes/api/admin/webhooks/index.ts": {
    path: () => "/api/admin/webhooks",
    expect: ADMIN_API,
  },
  "POST ./routes/api/admin/webhooks/index.ts": {
    path: () => "/api/admin/webhooks",
    send: () => ({
      method: "POST",
      json: { url: "https://hooks.example.com/access-api" },
    }),
    expect: [401, 403, 403, 201, 201, 401],
  },
  "GET ./routes/api/admin/webhooks/[id].ts": {
    path: () => `/api/admin/webhooks/${newId()}`,
    expect: [401, 403, 403, 404, 404, 401],
  },
  "DELETE ./routes/api/admin/webhooks/[id].ts": {
    path: () => `/api/admin/webhooks/${newId()}`,
    send: () => ({ method: "DELETE" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/webhooks/[id]/test.ts": {
    path: () => `/api/admin/webhooks/${newId()}/test`,
    send: () => ({ method: "POST" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "GET ./routes/admin/users.tsx": {
    path: () => "/admin/users",
    expect: ADMIN_PAGE,
  },
  "PUT ./routes/api/admin/catalog/[imageTag].ts": {
    path: () => "/api/admin/catalog/v1",
    send: () => ({ method: "PUT", json: { openclawVersion: "1.0.0" } }),
    expect: ADMIN_API,
  },
  "GET ./routes/api/admin/instances/[id].ts": {
    path: (w) => `/api/admin/instances/${w.instanceId}`,
    expect: ADMIN_API,
  },
  "PUT ./routes/api/admin/instances/[id].ts": {
    path: (w) => `/api/admin/instances/${w.freeInstanceId}`,
    send: (w) => ({
      method: "PUT",
      json: { name: "Free bot", ownerId: w.owner.user.id, imageTag: "v1" },
    }),
    expect: ADMIN_API,
  },
  "GET ./routes/api/admin/notices/last-run.ts": {
    path: () => "/api/admin/notices/last-run",
    expect: ADMIN_API,
  },
  "POST ./routes/api/admin/notices/sweep.ts": {
    path: () => "/api/admin/notices/sweep",
    send: () => ({ method: "POST" }),
    expect: ADMIN_API,
  },
  "GET ./routes/api/admin/scheduled-actions/index.ts": {
    path: () => "/api/admin/scheduled-actions",
    expect: ADMIN_API,
  },
  "POST ./routes/api/admin/scheduled-actions/index.ts": {
    path: () => "/api/admin/scheduled-actions",
    send: () => ({ method: "POST", json: {} }),
    // Past the gate, an empty body is the caller's mistake.
    expect: [401, 403, 403, 400, 400, 401],
  },
  "GET ./routes/api/admin/scheduled-actions/[id].ts": {
    path: (w) => `/api/admin/scheduled-actions/${w.actionId}`,
    expect: ADMIN_API,
  },
  "GET ./routes/api/admin/scheduled-actions/[id]/progress.ts": {
    path: (w) => `/api/admin/scheduled-actions/${w.actionId}/progress`,
    expect: ADMIN_API,
  },
  "POST ./routes/api/admin/scheduled-actions/preview.ts": {
    path: () => "/api/admin/scheduled-actions/preview",
    send: () => ({ method: "POST", json: {} }),
    // Past the gate, an empty body is the caller's mistake.
    expect: [401, 403, 403, 400, 400, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/cancel.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/cancel`,
    send: () => ({ method: "POST" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/resume.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/resume`,
    send: () => ({ method: "POST", json: {} }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/abort.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/abort`,
    send: () => ({ method: "POST" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/rollback.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/rollback`,
    send: () => ({ method: "POST" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/recount.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/recount`,
    send: () => ({ method: "POST" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/reschedule.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/reschedule`,
    send: () => ({
      method: "POST",
      json: { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
    }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/reschedule/preview.ts": {
    path: () => `/api/admin/scheduled-actions/${newId()}/reschedule/preview`,
    send: () => ({
      method: "POST",
      json: { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
    }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "POST ./routes/api/admin/scheduled-actions/[id]/targets/[targetId]/cancel.ts":
    {
      path: (w) =>
        `/api/admin/scheduled-actions/${w.actionId}/targets/${newId()}/cancel`,
      send: () => ({ method: "POST" }),
      expect: [401, 403, 403, 404, 404, 401],
    },
  "PUT ./routes/api/admin/users/[id].ts": {
    path: () => "/api/admin/users/matrix-user",
    send: () => ({ method: "PUT", json: { email: "matrix@example.com" } }),
    expect: ADMIN_API,
  },
  "DELETE ./routes/api/admin/users/[id].ts": {
    path: () => "/api/admin/users/nobody-at-all",
    send: () => ({ method: "DELETE" }),
    expect: [401, 403, 403, 404, 404, 401],
  },
  "GET ./routes/api/instances/index.ts": {
    path: () => "/api/instances",
    expect: [401, 200, 200, 200, 401, 401],
  },
  "GET ./routes/api/instances/[id]/status.ts": {
    path: (w) => `/api/instances/${w.instanceId}/status`,
    expect: [401, 200, 404, 404, 401, 401],
  },
  "POST ./routes/api/instances/[id]/postpone.ts": {
    path: (w) => `/api/instances/${w.instanceId}/postpone`,
    send: () => ({
      method: "POST",
      json: { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() },
    }),
    // The owner's instance has no change planned; anyone else's is not found.
    expect: [401, 409, 404, 404, 401, 401],
  },
  "POST ./routes/api/internal/scheduled-action-side-effects.ts": {
    path: () => "/api/internal/scheduled-action-side-effects",
    send: () => ({ method: "POST", json: {} }),
    expect: [401, 401, 401, 401, 401, 400],
  },
  "POST ./routes/api/push-tokens.ts": {
    path: () => "/api/push-tokens",
    // A device of each caller's own: a device another account holds is a 409.
    send: () => ({
      method: "POST",
      json: {
        token: `ExponentPushToken[matrix-${crypto.randomUUID().slice(0, 8)}]`,
      },
    }),
    expect: [401, 200, 200, 200, 401, 401],
  },
  "DELETE ./routes/api/push-tokens.ts": {
    path: () => "/api/push-tokens?token=ExponentPushToken[matrix-device-0001]",
    send: () => ({ method: "DELETE" }),
    expect: [401, 200, 200, 200, 401, 401],
  },
};

/** Paths no route serves: the gates of the folder they are in, then 404. */
const UNSERVED: Record<string, Row> = {
  "/nope": ["login", 404, 404, 404, "login", "login"],
  "/admin/nope": ["login", 403, 403, 404, "login", "login"],
  "/claw": ["login", 404, 404, 404, "login", "login"],
  "/api": [401, 404, 404, 404, 401, 401],
  "/api/nope": [401, 404, 404, 404, 401, 401],
  "/api/admin": [401, 403, 403, 404, 404, 401],
  "/api/admin/nope": [401, 403, 403, 404, 404, 401],
  "/api/internal/nope": [401, 401, 401, 401, 401, 404],
};

/** Every (method, route) the manifest serves: the handler's methods, GET for a page. */
function servedRoutes(): string[] {
  const out: string[] = [];
  for (const [key, mod] of Object.entries(manifest.routes)) {
    if (/\/_[^/]+$/.test(key.replace(/\.(tsx?|jsx?)$/, ""))) continue;
    const m = mod as { handler?: unknown; default?: unknown };
    const methods = new Set<string>();
    if (typeof m.handler === "function") {
      throw new Error(
        `${key}: a function handler serves every method; give it a methods object`,
      );
    }
    for (const name of Object.keys((m.handler as object | undefined) ?? {})) {
      methods.add(name);
    }
    if (m.default) methods.add("GET");
    for (const method of methods) out.push(`${method} ${key}`);
  }
  return out.sort();
}

async function ask(
  w: World,
  who: Identity,
  path: string,
  send: Send,
  ownSession: boolean,
): Promise<Response> {
  const init = requestAs(w, who, send);
  const session = sessionOf(w, who);
  if (ownSession && session) {
    const fresh = await createSession(w.app.kv, session.user.id);
    const headers = new Headers(init.headers);
    headers.set("cookie", `${SESSION_COOKIE}=${fresh.id}`);
    init.headers = headers;
    if (typeof init.body === "string") {
      init.body = init.body.replace(
        encodeURIComponent(session.csrfToken),
        encodeURIComponent(fresh.session.csrfToken),
      ).replace(session.csrfToken, fresh.session.csrfToken);
    }
  }
  return await w.app.request(path, init);
}

function check(res: Response, expected: Expect, what: string) {
  if (expected === "login") {
    assert.equal(res.status, 303, what);
    assert.match(res.headers.get("location") ?? "", /^\/login(\?|$)/, what);
  } else {
    assert.equal(res.status, expected, what);
  }
}

Deno.test("access matrix: every route has a rule, and every caller gets what the rule says", async (t) => {
  const served = servedRoutes();
  await t.step(
    "every route and method has a rule, and no rule is stale",
    () => {
      const missing = served.filter((r) => !(r in RULES));
      assert.deepEqual(missing, [], "routes without an access rule");
      const stale = Object.keys(RULES).filter((r) => !served.includes(r));
      assert.deepEqual(stale, [], "rules for routes that no longer exist");
    },
  );

  const w = await createWorld();
  try {
    let cells = 0;
    for (const key of served) {
      const rule = RULES[key];
      if (!rule) continue;
      await t.step(key, async () => {
        for (const [i, who] of IDENTITIES.entries()) {
          const path = rule.path(w);
          const send = rule.send?.(w) ?? {};
          const res = await ask(w, who, path, send, rule.ownSession ?? false);
          await res.body?.cancel();
          check(res, rule.expect[i], `${key} as ${who}`);
          cells++;
        }
      });
    }
    for (const [path, row] of Object.entries(UNSERVED)) {
      await t.step(`unserved ${path}`, async () => {
        for (const [i, who] of IDENTITIES.entries()) {
          for (const method of ["GET", "POST"]) {
            const send: Send = method === "GET"
              ? {}
              : path.startsWith("/api")
              ? { method, json: {} }
              : { method, form: {} };
            const res = await ask(w, who, path, send, false);
            await res.body?.cancel();
            check(res, row[i], `${method} ${path} as ${who}`);
            cells++;
          }
        }
      });
    }
    assert.equal(
      cells,
      served.length * IDENTITIES.length +
        Object.keys(UNSERVED).length * IDENTITIES.length * 2,
    );
  } finally {
    await w.app.close();
  }
});
