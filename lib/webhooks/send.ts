/**
 * One HTTP attempt of one delivery, and what its answer means. A `standard`
 * endpoint gets the event signed per Standard Webhooks (the event id as
 * `webhook-id`, the same on every attempt: the receiver's idempotency key);
 * a `slack` endpoint gets Slack's `{text}`.
 */
import { Webhook } from "standardwebhooks";
import { retryAfterMs } from "../web/http.ts";
import type { WebhookEndpoint } from "./endpoints.ts";
import type { WebhookPayload } from "./schemas.ts";
import { slackText } from "./slack_text.ts";

export type AttemptResult =
  | { outcome: "delivered"; status: number; answer: string }
  /** Worth another try later (timeouts, 408, 429, 5xx, no answer). */
  | {
    outcome: "retry";
    status: number | null;
    answer: string;
    retryAfterMs?: number;
  }
  | { outcome: "failed"; status: number | null; answer: string }
  /** 410 Gone: the receiver asks for nothing more. */
  | { outcome: "gone"; status: 410; answer: string };

/** The start of an answer kept in the delivery log. */
const ANSWER_CHARS = 300;

async function answerText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  return text.slice(0, ANSWER_CHARS);
}

/** The body and headers an endpoint of this kind gets for this event. */
export function requestFor(
  endpoint: Pick<WebhookEndpoint, "kind" | "secret">,
  eventId: string,
  payload: WebhookPayload,
  at: Date,
): { body: string; headers: Record<string, string> } | null {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "KiloClaw-Webhooks/1.0",
  };
  if (endpoint.kind === "slack") {
    const text = slackText(payload);
    return text === null ? null : { body: JSON.stringify({ text }), headers };
  }
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      ...headers,
      "webhook-id": eventId,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(endpoint.secret).sign(eventId, at, body),
    },
  };
}

/** Posts once, within `timeoutMs`; never follows a redirect (it could lead inward). */
export async function attempt(
  fetchFn: typeof fetch,
  url: string,
  request: { body: string; headers: Record<string, string> },
  timeoutMs: number,
  now: number,
): Promise<AttemptResult> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: "POST",
      body: request.body,
      headers: request.headers,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    const answer = e?.name === "TimeoutError"
      ? `no answer within ${timeoutMs / 1000} s`
      : `could not reach the endpoint: ${e?.message ?? err}`.slice(
        0,
        ANSWER_CHARS,
      );
    return { outcome: "retry", status: null, answer };
  }
  const answer = await answerText(res);
  const s = res.status;
  if (s >= 200 && s < 300) return { outcome: "delivered", status: s, answer };
  if (s === 410) return { outcome: "gone", status: 410, answer };
  if (s === 408 || s === 429 || s >= 500) {
    return {
      outcome: "retry",
      status: s,
      answer,
      retryAfterMs: retryAfterMs(res.headers, now),
    };
  }
  if (s >= 300 && s < 400) {
    return {
      outcome: "failed",
      status: s,
      answer: `answered a redirect to ${
        res.headers.get("location") ?? "elsewhere"
      }; webhooks do not follow redirects, register the final URL`,
    };
  }
  return { outcome: "failed", status: s, answer };
}
