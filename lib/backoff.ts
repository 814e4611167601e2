/**
 * How long a delivery that failed for now waits before its next try: doubling
 * from a base, capped, never sooner than the upstream's Retry-After. With a
 * `jitter` in [0, 1) the wait is spread over the upper half of its step, so
 * many retries that failed together do not come due together.
 */
export interface Backoff {
  baseMs: number;
  maxMs?: number;
  jitter?: number;
  retryAfterMs?: number;
}

/** The wait after the `attempts`-th try failed (the first wait is `baseMs`). */
export function backoffMs(attempts: number, o: Backoff): number {
  const step = Math.min(
    o.maxMs ?? Infinity,
    o.baseMs * 2 ** Math.max(0, attempts - 1),
  );
  const wait = o.jitter === undefined
    ? step
    : Math.round(step * (0.5 + o.jitter / 2));
  return Math.max(wait, o.retryAfterMs ?? 0);
}
