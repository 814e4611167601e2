/**
 * App-wide protections, registered on the web layer before routing: a request
 * id on every response and log line, secure headers with a CSP that allows
 * only the app's own scripts, and each route's body limit and deadline
 * (`request_limits.ts`). Outermost of all, text answers are compressed
 * (`compression.ts`) once every header is set.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { log, withRequestId } from "../operations/log.ts";
import { ADMIN_BODY_BYTES, limitBodies } from "./request_limits.ts";
import { errorAnswer, type ErrorPage } from "./http_errors.ts";
import { compressAnswers } from "./compression.ts";

/** The largest body any route takes (an admin's schedule call). */
export const MAX_BODY_BYTES = ADMIN_BODY_BYTES;

const requestId: MiddlewareHandler = async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && /^[\w.-]{1,64}$/.test(incoming)
    ? incoming
    : crypto.randomUUID().slice(0, 8);
  const started = performance.now();
  await withRequestId(id, async () => {
    await next();
    c.res.headers.set("X-Request-Id", id);
    const path = new URL(c.req.url).pathname;
    if (!path.startsWith("/_frsh/") && !path.startsWith("/static/")) {
      log.info(`${c.req.method} ${path}`, {
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      });
    }
  });
};

/** The routes that serve an email's HTML into a frame: a stored one (outbox), a schedule review's. */
export const EMAIL_FRAME_PATH =
  /^\/admin\/(outbox\/[^/]+\/html|previews\/[0-9a-f]{32})$/;

/** The API reference page: its renderer (Scalar) styles its parts inline. */
export const API_REFERENCE_PATH = /^\/admin\/api\/?$/;

export function installSecurity(app: Hono, errorPage: ErrorPage): void {
  app.use(compressAnswers());
  app.use(requestId);
  const appHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      frameSrc: ["'self'"],
      frameAncestors: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    referrerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
  });
  // A stored email is shown in a sandboxed frame: its inline styles may apply, nothing else may load or run.
  const emailFrameHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'unsafe-inline'"],
      imgSrc: ["data:", "https:"],
      frameAncestors: ["'self'"],
      sandbox: [],
    },
    referrerPolicy: "no-referrer",
    crossOriginEmbedderPolicy: false,
  });
  // Scalar sets its theme in a <style> element and sizes in style attributes;
  // scripts stay 'self' only there too.
  const apiReferenceHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      frameAncestors: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    referrerPolicy: "same-origin",
    crossOriginEmbedderPolicy: false,
  });
  app.use((c, next) => {
    const path = new URL(c.req.url).pathname;
    if (EMAIL_FRAME_PATH.test(path)) return emailFrameHeaders(c, next);
    if (API_REFERENCE_PATH.test(path)) return apiReferenceHeaders(c, next);
    return appHeaders(c, next);
  });
  app.use(limitBodies({
    refuse: (err, req) => {
      const url = new URL(req.url);
      return errorAnswer(
        err,
        url,
        url.pathname.startsWith("/api/"),
        errorPage,
      );
    },
  }));
}
