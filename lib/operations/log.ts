/**
 * One-line logs. Inside a request every line carries that request's id
 * (AsyncLocalStorage follows the request through awaits), and inside a span
 * (a sweep, an apply, a request with telemetry on) its trace id.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { currentTraceId } from "./telemetry.ts";

const requestScope = new AsyncLocalStorage<string>();
let quiet = false;

/** Tests silence logs; errors still print. */
export function setQuietLogs(value: boolean): void {
  quiet = value;
}

export function withRequestId<T>(id: string, fn: () => T): T {
  return requestScope.run(id, fn);
}

export function currentRequestId(): string | undefined {
  return requestScope.getStore();
}

type Fields = Record<string, unknown>;

/**
 * A message longer than this is cut, with a marker saying how much was cut:
 * the access log's message carries the request path, which anyone can make
 * 10 KB long.
 */
export const MAX_MESSAGE_CHARS = 300;

function clipped(msg: string): string {
  if (msg.length <= MAX_MESSAGE_CHARS) return msg;
  const rest = msg.length - MAX_MESSAGE_CHARS;
  return `${msg.slice(0, MAX_MESSAGE_CHARS).toWellFormed()}…[cut ${
    rest.toLocaleString("en-US")
  } more characters]`;
}

function line(level: string, msg: string, fields?: Fields): string {
  const rid = requestScope.getStore();
  const traceId = currentTraceId();
  const parts = [
    new Date().toISOString(),
    level,
    rid ? `req=${rid}` : "",
    traceId ? `trace=${traceId}` : "",
    clipped(msg),
  ];
  for (const [k, v] of Object.entries(fields ?? {})) {
    parts.push(
      `${k}=${
        typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v ?? null)
      }`,
    );
  }
  return parts.filter(Boolean).join(" ");
}

export const log = {
  info(msg: string, fields?: Fields) {
    if (!quiet) console.log(line("INFO", msg, fields));
  },
  warn(msg: string, fields?: Fields) {
    if (!quiet) console.warn(line("WARN", msg, fields));
  },
  error(msg: string, fields?: Fields) {
    console.error(line("ERROR", msg, fields));
  },
};
