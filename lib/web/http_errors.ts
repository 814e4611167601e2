/**
 * Errors as answers, in one place. `/api` answers JSON `{error, issues?}`
 * with the error's status (an untyped error is logged and answers 500
 * "internal error"), and its own 404 and 405 in JSON too. Pages redirect to
 * sign in on 401 and show the error page for other typed errors; an untyped
 * error is left to the 500 page.
 */
import { AppError } from "../errors.ts";
import { redirect } from "./http.ts";
import { signInUrl } from "../auth/next.ts";
import { log } from "../operations/log.ts";

/** The HTML page that shows a refused page request (the page is a component). */
export type ErrorPage = (
  status: number,
  title: string,
  message: string,
) => string;

/** The answer for an error thrown while serving `url`; rethrows an untyped error on a page. */
export function errorAnswer(
  err: unknown,
  url: URL,
  isApi: boolean,
  errorPage: ErrorPage,
): Response {
  if (!(err instanceof AppError)) {
    if (!isApi) throw err; // the _500 page
    log.error("unhandled error", {
      error: String((err as Error)?.stack ?? err),
    });
    return Response.json({ error: "internal error" }, { status: 500 });
  }
  if (isApi) return Response.json(err.toJSON(), { status: err.status });
  if (err.status === 401) return redirect(signInUrl(url.pathname + url.search));
  const title = err.status === 403
    ? "Not allowed"
    : err.status === 404
    ? "Not found"
    : "Request refused";
  return new Response(errorPage(err.status, title, err.message), {
    status: err.status,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/**
 * An API answer as JSON: a path no endpoint serves is a JSON 404, and a
 * method the endpoint does not take a JSON 405 (the router's own answers are
 * plain text).
 */
export async function apiAnswer(
  req: Request,
  path: string,
  res: Response,
  routeFound: boolean,
): Promise<Response> {
  if (!routeFound) {
    await res.body?.cancel();
    return Response.json(
      { error: `no API endpoint at ${path}` },
      { status: 404 },
    );
  }
  if (
    res.status === 405 &&
    !/json/i.test(res.headers.get("content-type") ?? "")
  ) {
    await res.body?.cancel();
    return Response.json(
      { error: `method ${req.method} is not allowed on ${path}` },
      { status: 405, headers: { allow: res.headers.get("allow") ?? "" } },
    );
  }
  return res;
}
