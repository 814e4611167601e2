/**
 * A real fleet's controller over HTTP: `POST {CONTROLLER_URL}/instances/:id/restart`
 * and `…/version-change`, JSON bodies signed with HMAC-SHA256.
 *
 * Signature: `X-KiloClaw-Signature: v1=<hex HMAC-SHA256(secret, "<ts>.<METHOD>.<path>.<body>")>`
 * with `X-KiloClaw-Timestamp: <unix seconds>`; the fleet should reject stale
 * timestamps. `Idempotency-Key` is the target id, the same on every retry, so
 * a fleet can drop a repeat of a change it already made.
 *
 * A version change may carry `expectedPinnedImageTag` (the change goes ahead
 * only while the pin is that) and `removePin: true` (overriding pins: the pin
 * goes with the tag change).
 *
 * Answers: 2xx done; 409 `{reason: "destroyed" | "pin_changed_in_flight"}` a
 * skip; 408, 425, 429, 5xx, timeouts and network errors are retried with
 * backoff (honouring Retry-After) and reported transient if they persist;
 * any other status fails at once with the fleet's `error` text.
 *
 * Health: `POST {CONTROLLER_URL}/instances/health` `{"instanceIds": [...]}`
 * (at most 100), signed the same way, answers
 * `{"health": {"<instanceId>": "healthy" | "unhealthy" | "unknown"}}`; an id
 * it leaves out, an answer that does not parse or a call that keeps failing
 * reads as `unknown`, which the gate does not count as unhealthy.
 */
import type { Instance } from "../types.ts";
import { encodeHex } from "../hex.ts";
import { retryAfterMs, upstreamErrorText } from "../web/http.ts";
import {
  type ControllerCallOptions,
  type ControllerResult,
  HEALTH_BATCH,
  type InstanceController,
  type InstanceHealth,
} from "./controller.ts";

const HEALTH_VALUES: ReadonlySet<string> = new Set([
  "healthy",
  "unhealthy",
  "unknown",
]);

export interface HttpControllerOptions {
  baseUrl: string;
  secret: string;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Tries per call, the first included (default 3). */
  tries?: number;
  /** First backoff step (default 500 ms, doubling). */
  backoffMs?: number;
  /** Longest Retry-After honoured (default 30 s). */
  maxRetryAfterMs?: number;
}

const encoder = new TextEncoder();

export async function signControllerRequest(
  secret: string,
  timestamp: string,
  method: string,
  path: string,
  body: string,
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    encoder.encode(`${timestamp}.${method}.${path}.${body}`),
  );
  return "v1=" + encodeHex(mac);
}

const TRANSIENT = new Set([408, 425, 429]);

export function httpController(
  opts: HttpControllerOptions,
): InstanceController {
  const base = opts.baseUrl.replace(/\/+$/, "");
  const tries = opts.tries ?? 3;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const backoffMs = opts.backoffMs ?? 500;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;

  async function once(path: string, body: string, idempotencyKey: string) {
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await fetch(base + path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-kiloclaw-timestamp": ts,
        "x-kiloclaw-signature": await signControllerRequest(
          opts.secret,
          ts,
          "POST",
          new URL(base + path).pathname,
          body,
        ),
        "idempotency-key": idempotencyKey,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res;
  }

  async function call(
    instance: Instance,
    op: "restart" | "version-change",
    payload: Record<string, unknown>,
    callOpts: ControllerCallOptions,
  ): Promise<ControllerResult> {
    const path = `/instances/${encodeURIComponent(instance.id)}/${op}`;
    const body = JSON.stringify({
      instanceId: instance.id,
      actionId: callOpts.actionId,
      targetId: callOpts.targetId,
      ...payload,
    });
    let last = "";
    for (let i = 0; i < tries; i++) {
      let wait = backoffMs * 2 ** i;
      try {
        const res = await once(path, body, callOpts.targetId);
        if (res.ok) {
          await res.body?.cancel();
          return { ok: true };
        }
        if (res.status === 409) {
          const text = await res.text();
          let reason: unknown;
          try {
            reason = JSON.parse(text)?.reason;
          } catch { /* a 409 without a reason is a plain failure */ }
          if (reason === "destroyed" || reason === "pin_changed_in_flight") {
            return {
              ok: false,
              transient: false,
              error: text,
              skipReason: reason,
            };
          }
          return {
            ok: false,
            transient: false,
            error: `controller answered 409: ${text}`,
          };
        }
        const error =
          `controller answered ${res.status}: ${await upstreamErrorText(
            res,
          )}`;
        if (!TRANSIENT.has(res.status) && res.status < 500) {
          return { ok: false, transient: false, error };
        }
        last = error;
        wait = Math.min(retryAfterMs(res.headers) ?? wait, maxRetryAfterMs);
      } catch (err) {
        last = err instanceof DOMException && err.name === "TimeoutError"
          ? `controller did not answer within ${timeoutMs} ms`
          : `controller unreachable: ${(err as Error).message}`;
      }
      if (i < tries - 1) await new Promise((r) => setTimeout(r, wait));
    }
    return { ok: false, transient: true, error: last };
  }

  /** One health call for up to HEALTH_BATCH ids, retried like a change. */
  async function healthOnce(ids: string[]) {
    const body = JSON.stringify({ instanceIds: ids });
    for (let i = 0; i < tries; i++) {
      let wait = backoffMs * 2 ** i;
      try {
        const res = await once("/instances/health", body, crypto.randomUUID());
        if (res.ok) {
          const answer = (await res.json().catch(() => null))?.health;
          return answer && typeof answer === "object" ? answer : {};
        }
        await res.body?.cancel();
        if (!TRANSIENT.has(res.status) && res.status < 500) return {};
        wait = Math.min(retryAfterMs(res.headers) ?? wait, maxRetryAfterMs);
      } catch { /* unreachable or timed out: tried again, then unknown */ }
      if (i < tries - 1) await new Promise((r) => setTimeout(r, wait));
    }
    return {};
  }

  async function health(ids: string[]) {
    const out: Record<string, InstanceHealth> = {};
    for (let i = 0; i < ids.length; i += HEALTH_BATCH) {
      const part = ids.slice(i, i + HEALTH_BATCH);
      const answer = await healthOnce(part);
      for (const id of part) {
        const v = answer[id];
        out[id] = HEALTH_VALUES.has(v) ? v : "unknown";
      }
    }
    return out;
  }

  return {
    name: "http",
    health,
    restart: (instance, o) => call(instance, "restart", {}, o),
    changeVersion: (instance, imageTag, o) =>
      call(instance, "version-change", {
        imageTag,
        ...(o.expectedPinnedImageTag !== undefined
          ? { expectedPinnedImageTag: o.expectedPinnedImageTag }
          : {}),
        ...(o.removePin ? { removePin: true } : {}),
      }, o),
  };
}
