/**
 * What one request may cost before anyone is known: each route's body limit,
 * and the times a connection has to send its headers and its body. A body
 * whose declared length is over its route's limit is refused before a byte
 * of it is read; every other body is read through a stream that counts and
 * keeps time, so a body that never comes, or keeps coming, costs a few KiB
 * and at most `BODY_TIMEOUT_MS`.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import { bodyCutShortError } from "./request_body.ts";

/** A connection that has not sent its whole request head by then is closed. */
export const HEADERS_TIMEOUT_MS = 15_000;
/** A body not complete this long after its headers is refused (408) and its connection closed. */
export const BODY_TIMEOUT_MS = 30_000;

/** The admin's schedule call with 100,000 instance ids (up to about 80 characters each) fits. */
export const ADMIN_BODY_BYTES = 8 * 1024 * 1024;
/** A sign-in form (address, next path, CSRF token) is a few hundred bytes; a one-click unsubscribe less. */
export const ANONYMOUS_BODY_BYTES = 2 * 1024;
/** The internal side-effects call names one row. */
export const INTERNAL_BODY_BYTES = 4 * 1024;
/** A signed-in owner's calls (a push token, settings, a postpone) are small. */
export const OWNER_BODY_BYTES = 16 * 1024;

/** The body limit of a request to `pathname`, by who may call the route. */
export function bodyLimitFor(pathname: string): number {
  if (pathname.startsWith("/api/admin/") || pathname.startsWith("/admin/")) {
    return ADMIN_BODY_BYTES;
  }
  if (pathname.startsWith("/api/internal/")) return INTERNAL_BODY_BYTES;
  if (
    pathname === "/login" || pathname.startsWith("/login/") ||
    pathname === "/logout" || pathname.startsWith("/unsubscribe/")
  ) {
    return ANONYMOUS_BODY_BYTES;
  }
  return OWNER_BODY_BYTES;
}

export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super(
      413,
      `the request body is larger than this address takes (${
        limit.toLocaleString("en-US")
      } bytes)`,
    );
  }
}

export class BodyTimeoutError extends AppError {
  constructor(ms: number) {
    super(
      408,
      `the request body did not arrive within ${
        Number((ms / 1000).toFixed(1))
      } s`,
    );
  }
}

/**
 * Refuses a declared length over the route's limit at once, and hands the
 * routes a body that errors past the limit or the deadline (counted from the
 * request's arrival), whatever the Content-Length said.
 */
export function limitBodies(
  options: {
    timeoutMs?: number;
    limitFor?: (path: string) => number;
    /** The answer to a refused body (the app's error page or JSON). */
    refuse?: (err: AppError, req: Request) => Response;
  } = {},
): MiddlewareHandler {
  const timeoutMs = options.timeoutMs ?? BODY_TIMEOUT_MS;
  const limitFor = options.limitFor ?? bodyLimitFor;
  return async (c, next) => {
    const req = c.req.raw;
    if (!req.body) return await next();
    const limit = limitFor(new URL(req.url).pathname);
    const declared = req.headers.get("content-length");
    if (declared !== null && !(Number(declared) <= limit)) {
      const err = new PayloadTooLargeError(limit);
      // Let go of the connection's body now, not when the request is collected.
      req.body.cancel().catch(() => {});
      if (!options.refuse) throw err;
      c.res = options.refuse(err, req);
      return;
    }
    const body = boundedBody(req.body, limit, timeoutMs);
    c.req.raw = new Request(req, { body, duplex: "half" } as RequestInit);
    try {
      await next();
    } finally {
      body.cancel().catch(() => {});
    }
  };
}

/** `source` read in chunks: an error past `limit` bytes or `timeoutMs`, a 400 if it breaks off. */
function boundedBody(
  source: ReadableStream<Uint8Array>,
  limit: number,
  timeoutMs: number,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const deadline = Date.now() + timeoutMs;
  let received = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = (reason: unknown) => {
    clearTimeout(timer);
    reader.cancel(reason).catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new BodyTimeoutError(timeoutMs)),
          Math.max(0, deadline - Date.now()),
        );
      });
      try {
        const chunk = await Promise.race([reader.read(), late]);
        clearTimeout(timer);
        if (chunk.done) return controller.close();
        received += chunk.value.byteLength;
        if (received > limit) throw new PayloadTooLargeError(limit);
        controller.enqueue(chunk.value);
      } catch (err) {
        const reason = err instanceof AppError ? err : bodyCutShortError();
        stop(reason);
        controller.error(reason);
      }
    },
    cancel(reason) {
      stop(reason);
    },
  }, { highWaterMark: 0 });
}
