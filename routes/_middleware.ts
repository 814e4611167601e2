/**
 * Every request but static files, in order: who is asking (the session),
 * refuse cross-site state changes (CSRF), send anonymous page visits to sign
 * in, run the route, and answer errors (lib/web/http_errors.ts). No answer may be
 * cached. Paths no route matches go through the same gates as their parent
 * folder (so an unknown admin page is still for admins) and then answer 404.
 */
import type { FreshContext } from "$fresh/server.ts";
import { appContext } from "@/lib/app_context.ts";
import { anonymousState, loadSessionState } from "@/lib/auth/session_state.ts";
import { refuseCrossSite } from "@/lib/auth/csrf.ts";
import { signInUrl } from "@/lib/auth/next.ts";
import { noStore, redirect } from "@/lib/web/http.ts";
import { apiAnswer, errorAnswer } from "@/lib/web/http_errors.ts";
import { renderErrorPage } from "@/components/ErrorPage.tsx";
import type { State } from "@/lib/request_state.ts";

// Calendar and unsubscribe links are signed and need no sign-in (lib/calendar.ts,
// lib/owners/unsubscribe.ts).
const PUBLIC_PAGES =
  /^\/(login(\/.*)?|healthz|calendar\/.*|unsubscribe\/[^/]+)$/;
/**
 * RFC 8058: a mail provider POSTs the one-click unsubscribe from its own
 * servers, without cookies or an Origin; the signed token is the authority,
 * and all it can do is turn one owner's warnings off.
 */
const ONE_CLICK_UNSUBSCRIBE = /^\/unsubscribe\/[^/]+$/;
const API = /^\/api(\/|$)/;

export async function handler(req: Request, ctx: FreshContext<State>) {
  if (ctx.destination === "static" || ctx.destination === "internal") {
    return await ctx.next();
  }
  return noStore(await gate(req, ctx));
}

async function gate(req: Request, ctx: FreshContext<State>) {
  anonymousState(ctx.state);
  const path = ctx.url.pathname;
  const isApi = API.test(path);
  try {
    const app = appContext();
    await loadSessionState(req, ctx.state, app);
    // API endpoints take JSON only, so only pages check the form's token.
    if (!(req.method === "POST" && ONE_CLICK_UNSUBSCRIBE.test(path))) {
      await refuseCrossSite(
        req,
        app.config.publicUrl,
        isApi ? null : ctx.state.csrfToken,
      );
    }
    if (!isApi && !ctx.state.user && !PUBLIC_PAGES.test(path)) {
      const next = path + ctx.url.search;
      return redirect(signInUrl(next));
    }
    const res = await ctx.next();
    return isApi
      ? await apiAnswer(req, path, res, ctx.destination !== "notFound")
      : res;
  } catch (err) {
    return errorAnswer(err, ctx.url, isApi, renderErrorPage);
  }
}
