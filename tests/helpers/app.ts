/**
 * Drives the whole app in process: real routes and middleware, an in-memory
 * KV (or a file), outbox transports unless a test passes its own.
 */
import assert from "node:assert/strict";
import manifest from "@/fresh.gen.ts";
import { createHandler } from "$fresh/server.ts";
import { type Config, testConfig } from "@/lib/config.ts";
import { createAppContext } from "@/lib/app_context.ts";
import { createDispatchers } from "@/lib/channels/mod.ts";
import { type AppContext, setAppContext } from "@/lib/app_context.ts";
import { installSecurity } from "@/lib/web/security.ts";
import { renderErrorPage } from "@/components/ErrorPage.tsx";
import { createSession, SESSION_COOKIE } from "@/lib/auth/sessions.ts";
import { ensureInstanceList } from "@/lib/kv/instance_list.ts";
import { putUser } from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { whenSignInEmailsSent } from "@/lib/auth/sign_in_emails.ts";
import type { User } from "@/lib/types.ts";
import { withServer } from "./server.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const TEST_INTERNAL_SECRET = "test-internal-secret-0123456789abcdef";
export const ORIGIN = "http://localhost:8000";

export interface TestApp {
  ctx: AppContext;
  kv: Deno.Kv;
  adminToken: string;
  /** The app's request handler, e.g. to serve it on a real port for Chromium. */
  handler: (req: Request, info: Deno.ServeHandlerInfo) => Promise<Response>;
  /** Sends a request through the whole app; `path` is relative to ORIGIN. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** JSON request with the admin bearer token. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  /** Creates a user and a session for it; returns the cookie header value and the CSRF token. */
  signIn(
    input?: Partial<
      { email: string; name: string; admin: boolean; timeZone: string }
    >,
  ): Promise<
    { user: User; cookie: string; csrfToken: string }
  >;
  /**
   * Serves the app on a free local port for a browser, with PUBLIC_URL set
   * to that origin for the duration (the origin every change must come from).
   */
  serve<T>(fn: (origin: string) => Promise<T>): Promise<T>;
  /** Resolves once the sign-in emails the app's requests started sending are sent. */
  queueIdle(): Promise<void>;
  close(): Promise<void>;
}

export async function createTestApp(
  opts: {
    config?: Partial<Config>;
    context?: Partial<AppContext>;
    /** A KV file to open instead of an in-memory KV (whose data would count in the process's memory). */
    kvPath?: string;
  } = {},
): Promise<TestApp> {
  setQuietLogs(true);
  const config = testConfig({
    adminApiToken: TEST_ADMIN_TOKEN,
    internalApiSecret: TEST_INTERNAL_SECRET,
    publicUrl: ORIGIN,
    ...opts.config,
  });
  const kv = await Deno.openKv(opts.kvPath ?? ":memory:");
  // As the app does when it starts (main.ts).
  await ensureInstanceList(kv);
  const ctx = {
    ...createAppContext(config, kv, opts.context?.now ?? Date.now),
    ...opts.context,
  };
  setAppContext(ctx);
  const handler = await createHandler(manifest, {
    setup: (app) => installSecurity(app, renderErrorPage),
  });
  const info = {
    remoteAddr: {
      transport: "tcp" as const,
      hostname: "127.0.0.1",
      port: 40000,
    },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
  const request = (path: string, init?: RequestInit) =>
    handler(new Request(new URL(path, ORIGIN), init), info);
  return {
    ctx,
    kv,
    adminToken: TEST_ADMIN_TOKEN,
    handler,
    request,
    api(method, path, body) {
      return request(path, {
        method,
        headers: {
          authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    async signIn(input = {}) {
      const user = await putUser(kv, newId(), {
        email: input.email ??
          `user-${crypto.randomUUID().slice(0, 8)}@example.com`,
        name: input.name ?? null,
        admin: input.admin ?? false,
        timeZone: input.timeZone ?? null,
      });
      const { id, session } = await createSession(kv, user.id, ctx.now());
      return {
        user,
        cookie: `${SESSION_COOKIE}=${id}`,
        csrfToken: session.csrfToken,
      };
    },
    serve: (fn) =>
      withServer(handler, async (origin) => {
        const before = { config: ctx.config, dispatchers: ctx.dispatchers };
        ctx.config = { ...before.config, publicUrl: origin };
        // The email dispatcher links to PUBLIC_URL too: the emails the sweep sends
        // meanwhile link where the browser is (unless the test brought its own).
        if (!opts.context?.dispatchers) {
          ctx.dispatchers = createDispatchers({
            config: ctx.config,
            kv,
            email: ctx.email,
            now: ctx.now,
          });
        }
        try {
          return await fn(origin);
        } finally {
          ctx.config = before.config;
          ctx.dispatchers = before.dispatchers;
        }
      }),
    queueIdle: () => whenSignInEmailsSent(),
    async close() {
      await whenSignInEmailsSent();
      setAppContext(null);
      kv.close();
    },
  };
}

/** An admin API call that must succeed (below 300); answers its JSON body. */
export async function apiOk(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const res = await app.api(method, path, body);
  const json = await res.json();
  assert.ok(res.status < 300, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}
