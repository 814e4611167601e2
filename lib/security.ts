/**
 * App-wide protections, registered on the web layer before routing: a request
 * id on every response and log line, secure headers with a CSP that allows
 * only the app's own scripts, and a request body limit.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { bodyLimit } from "hono/body-limit";
import { log, withRequestId } from "./log.ts";

/** 10,000 instance ids in one schedule call fit with room to spare. */
export const MAX_BODY_BYTES = 1024 * 1024;

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

export function installSecurity(app: Hono): void {
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
  app.use((c, next) =>
    EMAIL_FRAME_PATH.test(new URL(c.req.url).pathname)
      ? emailFrameHeaders(c, next)
      : appHeaders(c, next)
  );
  app.use(bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      c.json(
        { error: `request body is larger than ${MAX_BODY_BYTES} bytes` },
        413,
      ),
  }));
}
