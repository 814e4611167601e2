/**
 * Email through Resend. The SDK answers `{data, error, headers}` instead of
 * throwing; `resendFailure` maps its errors to what the sweep does next.
 */
import { Resend } from "resend";
import type {
  EmailMessage,
  EmailSender,
  SendFailure,
  SendOptions,
  SendResult,
} from "./types.ts";
import { rateLimitInfo, type SendBudget } from "./rate_budget.ts";
import { retryAfterMs } from "../web/http.ts";

export interface ResendError {
  name?: string;
  message?: string;
  statusCode?: number | null;
}

/**
 * Transient: the network (`statusCode: null`), timeouts, 429, 5xx, and a
 * concurrent request holding the same idempotency key. Everything else (400,
 * 401, 403, 422, a key reused with another payload) fails at once with the
 * provider's words.
 */
export function resendFailure(
  error: ResendError,
  headers: Record<string, string> | null | undefined,
): SendFailure {
  const status = error.statusCode ?? null;
  const words = `${error.name ?? "error"}: ${error.message ?? "no message"}`;
  const error_ = status === null
    ? `Resend unreachable (${words})`
    : `Resend ${status} ${words}`;
  const transient = status === null || status === 408 || status === 429 ||
    status >= 500 || error.name === "concurrent_idempotent_requests";
  const wait = transient ? retryAfterMs(headers) : undefined;
  const failure: SendFailure = { ok: false, transient, error: error_ };
  failure.status = status;
  if (error.name === "invalid_idempotent_request") failure.keyInUse = true;
  failure.rateLimit = rateLimitInfo(headers);
  if (wait !== undefined) failure.retryAfterMs = wait;
  // No answer, or a server error: Resend may have sent the email anyway.
  if (status === null || status === 408 || status >= 500) {
    failure.uncertain = true;
  }
  return failure;
}

/** Resend tags allow ASCII letters, digits, `_` and `-` only. */
function resendTags(tags: Record<string, string> | undefined) {
  if (!tags) return undefined;
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 256);
  const list = Object.entries(tags).map(([name, value]) => ({
    name: clean(name),
    value: clean(value),
  }));
  return list.length ? list : undefined;
}

export class ResendEmailSender implements EmailSender {
  readonly name = "resend";
  private readonly client: Resend;

  constructor(
    apiKey: string,
    private readonly from: string,
    baseUrl?: string | null,
  ) {
    this.client = new Resend(apiKey, baseUrl ? { baseUrl } : undefined);
  }

  private payload(m: EmailMessage) {
    return {
      from: this.from,
      to: [m.to],
      subject: m.subject,
      html: m.html,
      text: m.text,
      tags: resendTags(m.tags),
      ...(m.headers ? { headers: m.headers } : {}),
    };
  }

  async send(
    message: EmailMessage,
    opts: SendOptions = {},
  ): Promise<SendResult> {
    const { data, error, headers } = await this.client.emails.send(
      this.payload(message),
      { idempotencyKey: opts.idempotencyKey, signal: opts.signal },
    );
    if (error) return resendFailure(error, headers);
    return {
      ok: true,
      id: data?.id ?? null,
      rateLimit: rateLimitInfo(headers),
    };
  }

  async sendBatch(
    messages: EmailMessage[],
    opts: SendOptions = {},
  ): Promise<SendResult> {
    // Permissive: one email Resend refuses (an address it will not send to)
    // comes back by index instead of refusing the whole batch (DESIGN rule 7).
    const { data, error, headers } = await this.client.batch.send(
      messages.map((m) => this.payload(m)),
      {
        idempotencyKey: opts.idempotencyKey,
        signal: opts.signal,
        batchValidation: "permissive",
      },
    );
    if (error) return resendFailure(error, headers);
    const refused = (data?.errors ?? []).map((e) => ({
      index: e.index,
      error: `Resend refused this email: ${e.message}`,
    }));
    const refusedAt = new Set(refused.map((r) => r.index));
    // `data` lists the sent emails only, in the order they were given.
    const sent = (data?.data ?? []).map((d) => d.id);
    const ids = messages.map((_, i) =>
      refusedAt.has(i) ? null : sent.shift() ?? null
    );
    const result: SendResult = {
      ok: true,
      id: ids.find((id) => id) ?? null,
      ids,
      rateLimit: rateLimitInfo(headers),
    };
    if (refused.length) result.refused = refused;
    return result;
  }
}

/**
 * Holds every call to the shared rate budget, keeps it to what the provider's
 * rate-limit headers say, and on a 429 stops all callers for as long as the
 * provider asked. A short wait is served here and the same call (same
 * idempotency key) tried again; a long one goes back to the sweep as a
 * transient failure with its delay.
 */
export class RateLimitedEmailSender implements EmailSender {
  readonly name: string;

  constructor(
    private readonly inner: EmailSender,
    private readonly budget: SendBudget,
    private readonly opts: {
      maxInlineWaitMs?: number;
      maxInlineRetries?: number;
    } = {},
  ) {
    this.name = inner.name;
  }

  send(
    message: EmailMessage,
    opts: SendOptions = {},
  ): Promise<SendResult> {
    return this.paced(() => this.inner.send(message, opts), opts);
  }

  sendBatch(
    messages: EmailMessage[],
    opts: SendOptions = {},
  ): Promise<SendResult> {
    return this.paced(
      () => this.inner.sendBatch(messages, opts),
      opts,
    );
  }

  private async paced(
    call: () => Promise<SendResult>,
    opts: SendOptions,
  ): Promise<SendResult> {
    const signal = opts.signal;
    const maxWait = this.opts.maxInlineWaitMs ?? 5_000;
    const maxRetries = this.opts.maxInlineRetries ?? 2;
    for (let attempt = 0;; attempt++) {
      // While the provider has everyone waiting long, answer at once instead
      // of holding a sign-in request or a sweep slot for the whole pause.
      const delay = await this.budget.delayMs();
      if (delay > maxWait) {
        return {
          ok: false,
          transient: true,
          error: `${this.name} asked to slow down; next send in ${
            Math.ceil(delay / 1000)
          } s`,
          retryAfterMs: delay,
        };
      }
      await this.budget.take(signal);
      if (opts.notAfter !== undefined && Date.now() >= opts.notAfter) {
        // Waited past the action time: not sent, certainly (the sweep then
        // finalizes the notice as too late).
        return {
          ok: false,
          transient: true,
          error:
            "the action time came while waiting for the provider's rate; not sent",
        };
      }
      const res = await call();
      if (res.rateLimit) await this.budget.observe(res.rateLimit);
      if (res.ok || !res.transient || res.retryAfterMs === undefined) {
        return res;
      }
      await this.budget.pause(res.retryAfterMs);
      // The next take() waits out the pause.
      if (attempt >= maxRetries || res.retryAfterMs > maxWait) return res;
    }
  }
}
