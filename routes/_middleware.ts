/**
 * Every request but static files: load the session, refuse cross-site state
 * changes (CSRF), sign-in gate for pages, and map typed errors to responses.
 * Paths no route matches go through the same gates as their parent folder
 * (so an unknown admin page is still for admins) and then answer 404.
 */
import type { FreshContext } from "$fresh/server.ts";
import { appContext } from "../lib/context.ts";
import {
  getSession,
  readCookie,
  sessionBelongsTo,
  sessionCookieName,
} from "../lib/auth/sessions.ts";
import { checkFormToken, checkOrigin, isSafeMethod } from "../lib/auth/csrf.ts";
import { effectiveRole, getUser } from "../lib/kv/users.ts";
import { AppError } from "../lib/errors.ts";
import { renderErrorPage } from "../components/ErrorPage.tsx";
import { log } from "../lib/log.ts";
import type { State } from "../lib/state.ts";

// Calendar links are signed and need no sign-in (lib/calendar.ts).
const PUBLIC_PAGES = /^\/(login(\/.*)?|healthz|calendar\/.*)$/;
const API = /^\/api(\/|$)/;

export async function handler(req: Request, ctx: FreshContext<State>) {
  if (ctx.destination === "static" || ctx.destination === "internal") {
    return await ctx.next();
  }
  const res = await gate(req, ctx);
  // Route answers are per user (pages carry the user's data and CSRF token):
  // no browser or proxy cache may keep them, so Back after sign-out shows nothing.
  if (res.headers.has("cache-control")) return res;
  try {
    res.headers.set("cache-control", "no-store");
    return res;
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set("cache-control", "no-store");
    return copy;
  }
}

async function gate(req: Request, ctx: FreshContext<State>) {
  ctx.state.user = null;
  ctx.state.role = null;
  ctx.state.sessionId = null;
  ctx.state.csrfToken = null;
  const path = ctx.url.pathname;
  const isApi = API.test(path);

  try {
    const { kv, config, now } = appContext();
    // A bearer-token request never rides on a cookie session.
    const bearer = /^Bearer\s/i.test(req.headers.get("authorization") ?? "");
    const sid = bearer
      ? null
      : readCookie(req, sessionCookieName(config.secureCookies));
    const session = sid ? await getSession(kv, sid, now()) : null;
    if (sid && session) {
      const user = await getUser(kv, session.userId);
      if (user && sessionBelongsTo(session, user)) {
        ctx.state.user = user;
        ctx.state.role = effectiveRole(user, config.adminEmails);
        ctx.state.sessionId = sid;
        ctx.state.csrfToken = session.csrfToken;
      }
    }
    checkOrigin(req, config.publicUrl);
    // API endpoints take JSON only (their middleware answers 415 to anything
    // else), which no cross-site form can send; pages take our forms only.
    if (!isApi && ctx.state.csrfToken && !isSafeMethod(req.method)) {
      await checkFormToken(req, ctx.state.csrfToken);
    }

    if (!isApi && !ctx.state.user && !PUBLIC_PAGES.test(path)) {
      const next = path + ctx.url.search;
      return redirect(
        next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`,
      );
    }
    const res = await ctx.next();
    if (isApi && ctx.destination === "notFound") {
      await res.body?.cancel();
      return Response.json(
        { error: `no API endpoint at ${path}` },
        { status: 404 },
      );
    }
    if (
      isApi && res.status === 405 &&
      !/json/i.test(res.headers.get("content-type") ?? "")
    ) {
      await res.body?.cancel();
      return Response.json(
        { error: `method ${req.method} is not allowed on ${path}` },
        { status: 405, headers: { allow: res.headers.get("allow") ?? "" } },
      );
    }
    return res;
  } catch (err) {
    if (!(err instanceof AppError)) {
      if (!isApi) throw err; // the _500 page
      log.error("unhandled error", {
        error: String((err as Error)?.stack ?? err),
      });
      return Response.json({ error: "internal error" }, { status: 500 });
    }
    if (isApi) return Response.json(err.toJSON(), { status: err.status });
    if (err.status === 401) {
      return redirect(
        `/login?next=${encodeURIComponent(path + ctx.url.search)}`,
      );
    }
    const title = err.status === 403
      ? "Not allowed"
      : err.status === 404
      ? "Not found"
      : "Request refused";
    return new Response(renderErrorPage(err.status, title, err.message), {
      status: err.status,
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  }
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}
