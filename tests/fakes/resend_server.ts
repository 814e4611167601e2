/**
 * A small Resend API on a local port, for the real `resend` SDK pointed at it
 * with `baseUrl`. It keeps what it delivered, replays idempotent requests the
 * way Resend does, and fails on demand (429 with retry-after, 422, 5xx).
 * Batches follow the `x-batch-validation` header: strict (the default)
 * refuses the whole batch for one bad email, permissive sends the rest.
 */

export interface ResendRequest {
  /** Arrival time (epoch ms). */
  at: number;
  method: string;
  path: string;
  idempotencyKey: string | null;
  authorization: string | null;
  body: unknown;
}

export interface DeliveredEmail {
  id: string;
  /** Delivery time (epoch ms). */
  at: number;
  idempotencyKey: string | null;
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  tags?: { name: string; value: string }[];
}

export interface CannedFailure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResendFake {
  url: string;
  apiKey: string;
  /** Every request, in order of arrival. */
  requests: ResendRequest[];
  /** Emails actually delivered (idempotent replays are not delivered again). */
  delivered: DeliveredEmail[];
  /** Answers the next requests with these, in order, before behaving normally. */
  failNext(...failures: CannedFailure[]): void;
  /** Addresses the fake refuses with a 422 validation error. */
  rejectAddresses: Set<string>;
  /** Waits this long before answering every request (default 0). */
  latencyMs: number;
  /** Overrides `latencyMs` per request, by its arrival time. */
  latencyFor: ((arrivedAt: number) => number) | null;
  /**
   * An outage: every request answered with this status and nothing
   * delivered; "hang" answers nothing at all; "slow" delivers (and keeps the
   * key) but answers only after `slowMs`. null: working.
   */
  outage: number | "hang" | "slow" | null;
  slowMs: number;
  /**
   * Requests allowed per fixed one-second window (counted on arrival, as
   * Resend does), with `ratelimit-limit`, `ratelimit-remaining` and
   * `ratelimit-reset` on every answer and a 429 with `retry-after` past it.
   * null: no limit.
   */
  rateLimit: number | null;
  /** Requests refused with 429 by `rateLimit`. */
  rejected429: number;
  close(): Promise<void>;
}

function validationError(message: string): Response {
  return Response.json(
    { statusCode: 422, name: "validation_error", message },
    { status: 422 },
  );
}

function checkEmail(
  e: Record<string, unknown>,
  reject: Set<string>,
): string | null {
  if (typeof e.from !== "string" || !e.from) {
    return "The `from` field is required.";
  }
  const to = Array.isArray(e.to) ? e.to : [e.to];
  if (!to.length || to.some((t) => typeof t !== "string" || !t.includes("@"))) {
    return "Invalid `to` field. The email address needs to follow the `email@example.com` format.";
  }
  const refused = to.find((t) => reject.has(t as string));
  if (refused) return `The address ${refused} is not allowed.`;
  if (typeof e.subject !== "string" || !e.subject) {
    return "The `subject` field is required.";
  }
  return null;
}

export function startResendFake(
  opts: { apiKey?: string } = {},
): Promise<ResendFake> {
  const apiKey = opts.apiKey ?? "re_test_key";
  const requests: ResendRequest[] = [];
  const delivered: DeliveredEmail[] = [];
  const failures: CannedFailure[] = [];
  const rejectAddresses = new Set<string>();
  /** Idempotency key → the request body it was first used with and the answer given. */
  const seen = new Map<string, { body: string; answer: unknown }>();

  const deliver = (
    e: Record<string, unknown>,
    key: string | null,
  ): { id: string } => {
    const id = crypto.randomUUID();
    delivered.push({
      id,
      at: Date.now(),
      idempotencyKey: key,
      from: e.from as string,
      to: (Array.isArray(e.to) ? e.to : [e.to]) as string[],
      subject: e.subject as string,
      html: (e.html as string) ?? "",
      text: (e.text as string) ?? "",
      tags: e.tags as DeliveredEmail["tags"],
    });
    return { id };
  };

  /** Idempotency keys of requests still being answered. */
  const inFlight = new Set<string>();
  const windows = new Map<number, number>();
  const handler = async (req: Request): Promise<Response> => {
    if (fake.rateLimit === null) return await idempotent(req);
    const now = Date.now();
    const window = Math.floor(now / 1000);
    const used = (windows.get(window) ?? 0) + 1;
    windows.set(window, used);
    windows.delete(window - 5);
    const resetS = Math.max(1, Math.ceil(((window + 1) * 1000 - now) / 1000));
    const headers = {
      "ratelimit-limit": String(fake.rateLimit),
      "ratelimit-remaining": String(Math.max(0, fake.rateLimit - used)),
      "ratelimit-reset": String(resetS),
    };
    if (used > fake.rateLimit) {
      fake.rejected429++;
      await req.body?.cancel();
      return Response.json({
        statusCode: 429,
        name: "rate_limit_exceeded",
        message:
          `Too many requests. You can only make ${fake.rateLimit} requests per second.`,
      }, {
        status: 429,
        headers: { ...headers, "retry-after": String(resetS) },
      });
    }
    const res = await idempotent(req);
    const merged = new Headers(res.headers);
    for (const [k, v] of Object.entries(headers)) merged.set(k, v);
    return new Response(res.body, { status: res.status, headers: merged });
  };
  const idempotent = async (req: Request): Promise<Response> => {
    const key = req.headers.get("idempotency-key");
    const flightKey = `${new URL(req.url).pathname} ${key}`;
    if (key && inFlight.has(flightKey)) {
      // Resend: the same key while the first request is still in progress.
      return Response.json({
        statusCode: 409,
        name: "concurrent_idempotent_requests",
        message:
          "Same idempotency key used while original request is still in progress.",
      }, { status: 409 });
    }
    if (key) inFlight.add(flightKey);
    try {
      return await respond(req, key);
    } finally {
      if (key) inFlight.delete(flightKey);
    }
  };
  const respond = async (
    req: Request,
    key: string | null,
  ): Promise<Response> => {
    const url = new URL(req.url);
    const raw = await req.text();
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      // recorded as null; answered below
    }
    requests.push({
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      idempotencyKey: key,
      authorization: req.headers.get("authorization"),
      body,
    });
    const wait = fake.latencyFor?.(Date.now()) ?? fake.latencyMs;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (fake.outage === "hang") {
      return await new Promise<Response>((resolve) => {
        hanging.push(() => resolve(new Response(null, { status: 503 })));
      });
    }
    if (typeof fake.outage === "number") {
      return Response.json({
        statusCode: fake.outage,
        name: "internal_server_error",
        message: `outage ${fake.outage}`,
      }, { status: fake.outage });
    }
    const canned = failures.shift();
    if (canned) {
      return Response.json(
        canned.body ??
          {
            statusCode: canned.status,
            name: "canned_error",
            message: `canned ${canned.status}`,
          },
        { status: canned.status, headers: canned.headers },
      );
    }
    if (req.headers.get("authorization") !== `Bearer ${apiKey}`) {
      return Response.json(
        {
          statusCode: 401,
          name: "missing_api_key",
          message: "Missing API key in the authorization header.",
        },
        { status: 401 },
      );
    }
    if (
      req.method !== "POST" ||
      !["/emails", "/emails/batch"].includes(url.pathname)
    ) {
      return Response.json(
        {
          statusCode: 404,
          name: "not_found",
          message: "The requested endpoint does not exist.",
        },
        { status: 404 },
      );
    }
    if (key) {
      const prev = seen.get(`${url.pathname} ${key}`);
      if (prev) {
        if (prev.body !== raw) {
          return Response.json({
            statusCode: 409,
            name: "invalid_idempotent_request",
            message:
              "Same idempotency key used with a different request payload.",
          }, { status: 409 });
        }
        return Response.json(prev.answer);
      }
    }
    let answer: unknown;
    if (url.pathname === "/emails") {
      const problem = checkEmail(
        (body ?? {}) as Record<string, unknown>,
        rejectAddresses,
      );
      if (problem) return validationError(problem);
      answer = deliver(body as Record<string, unknown>, key);
    } else {
      if (!Array.isArray(body) || body.length === 0 || body.length > 100) {
        return validationError("The batch must hold 1 to 100 emails.");
      }
      const problems = body.map((e) => checkEmail(e, rejectAddresses));
      if (req.headers.get("x-batch-validation") === "permissive") {
        // Resend's permissive mode: the valid emails go out, the others come
        // back by index; `data` lists the sent ones only, in order.
        answer = {
          data: body.flatMap((e, i) => problems[i] ? [] : [deliver(e, key)]),
          errors: problems.flatMap((message, index) =>
            message ? [{ index, message }] : []
          ),
        };
      } else {
        const i = problems.findIndex((p) => p !== null);
        if (i >= 0) return validationError(`emails[${i}]: ${problems[i]}`);
        answer = { data: body.map((e) => deliver(e, key)) };
      }
    }
    if (key) seen.set(`${url.pathname} ${key}`, { body: raw, answer });
    if (fake.outage === "slow") {
      await new Promise((r) => setTimeout(r, fake.slowMs));
    }
    return Response.json(answer);
  };
  const hanging: (() => void)[] = [];
  const fake = {
    latencyMs: 0,
    latencyFor: null,
    outage: null,
    slowMs: 0,
    rateLimit: null,
    rejected429: 0,
  } as Pick<
    ResendFake,
    | "latencyMs"
    | "latencyFor"
    | "outage"
    | "slowMs"
    | "rateLimit"
    | "rejected429"
  >;

  return new Promise((resolve) => {
    const server = Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      onListen: ({ port }) =>
        resolve(Object.assign(fake, {
          url: `http://127.0.0.1:${port}`,
          apiKey,
          requests,
          delivered,
          failNext: (...f: CannedFailure[]) => failures.push(...f),
          rejectAddresses,
          close: async () => {
            for (const answer of hanging.splice(0)) answer();
            await server.shutdown();
          },
        })),
    }, handler);
  });
}
