/**
 * Provider calls, timed: every call to the email or push provider records
 * its duration and outcome, and a 429 is counted (telemetry.ts). Wrapped
 * around the provider itself, inside the rate budget, so a wait for the
 * budget is not counted as the provider's time.
 */
import type {
  EmailMessage,
  EmailSender,
  PushMessage,
  PushTicket,
  PushTransport,
  SendOptions,
  SendResult,
} from "./types.ts";
import { REQUEST_FAILED } from "./expo.ts";
import {
  recordProviderCall,
  recordRateLimited,
} from "../operations/telemetry.ts";

async function timed<T>(
  provider: string,
  call: () => Promise<T>,
  ok: (result: T) => boolean,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await call();
    recordProviderCall(provider, performance.now() - started, ok(result));
    return result;
  } catch (err) {
    recordProviderCall(provider, performance.now() - started, false);
    throw err;
  }
}

function emailOk(provider: string) {
  return (res: SendResult) => {
    if (!res.ok && res.status === 429) recordRateLimited(provider);
    return res.ok;
  };
}

export class TimedEmailSender implements EmailSender {
  readonly name: string;

  constructor(private readonly inner: EmailSender) {
    this.name = inner.name;
  }

  send(
    message: EmailMessage,
    opts?: SendOptions,
  ): Promise<SendResult> {
    return timed(
      this.name,
      () => this.inner.send(message, opts),
      emailOk(this.name),
    );
  }

  sendBatch(
    messages: EmailMessage[],
    opts?: SendOptions,
  ): Promise<SendResult> {
    return timed(
      this.name,
      () => this.inner.sendBatch(messages, opts),
      emailOk(this.name),
    );
  }
}

/** Expo's SDK retries its own 429s inside one call, so only durations and failed requests show here. */
export function timedPushTransport(inner: PushTransport): PushTransport {
  const wrapped: PushTransport = {
    name: inner.name,
    send: (messages: PushMessage[], about?: string[][]) =>
      timed(
        inner.name,
        () => inner.send(messages, about),
        (tickets: PushTicket[]) =>
          !tickets.some((t) =>
            t.status === "error" && t.details?.error === REQUEST_FAILED
          ),
      ),
  };
  if (inner.getReceipts) {
    const getReceipts = inner.getReceipts.bind(inner);
    wrapped.getReceipts = (ids) =>
      timed(inner.name, () => getReceipts(ids), () => true);
  }
  return wrapped;
}
