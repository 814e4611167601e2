/**
 * The figures an on-call engineer watches, through Deno's built-in
 * OpenTelemetry. With `OTEL_DENO=true` Deno registers its exporter behind
 * `npm:@opentelemetry/api` (endpoint and protocol from the `OTEL_*`
 * variables); without it every instrument here is a no-op.
 *
 * Durations are in milliseconds: Deno's default histogram buckets
 * (0 … 10,000) fit them.
 */
import { metrics, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

const SCOPE = "kiloclaw-scheduler";
const meter = metrics.getMeter(SCOPE);
const tracer = trace.getTracer(SCOPE);

const RUN_BUCKETS_MS = [
  10,
  50,
  100,
  250,
  500,
  1_000,
  2_500,
  5_000,
  10_000,
  30_000,
  60_000,
];

const noticesDue = meter.createGauge("kiloclaw.notices.due", {
  description: "Notices due and not yet sent, when a sweep starts",
  unit: "{notice}",
});
const sweepLag = meter.createGauge("kiloclaw.notices.sweep_lag", {
  description:
    "How long the oldest due notice has waited, when a sweep starts (0: none waiting)",
  unit: "s",
});
const noticeRows = meter.createCounter("kiloclaw.notices.rows", {
  description:
    "Notice rows by channel and outcome: sent, failed, retried (back to pending with backoff), voided (its action moved on), recovered (handed back after a lease ended)",
  unit: "{notice}",
});
const claimsLost = meter.createCounter("kiloclaw.notices.claims_lost", {
  description:
    "Rows a sweep tried to claim that another sweep, the apply or a cancel changed first",
  unit: "{notice}",
});
const sweepDuration = meter.createHistogram("kiloclaw.sweep.duration", {
  description: "Duration of one notice sweep",
  unit: "ms",
  advice: { explicitBucketBoundaries: RUN_BUCKETS_MS },
});
const applyDuration = meter.createHistogram("kiloclaw.apply.duration", {
  description: "Duration of one apply run",
  unit: "ms",
  advice: { explicitBucketBoundaries: RUN_BUCKETS_MS },
});
const applyTargets = meter.createCounter("kiloclaw.apply.targets", {
  description:
    "Targets finished by the apply, by outcome: applied, skipped, failed",
  unit: "{target}",
});
const providerDuration = meter.createHistogram("kiloclaw.provider.duration", {
  description:
    "Time of one call to an email or push provider, by provider and outcome (ok, error)",
  unit: "ms",
});
const providerRateLimited = meter.createCounter(
  "kiloclaw.provider.rate_limited",
  {
    description: "Answers 429 (too many requests) from a provider",
    unit: "{request}",
  },
);
const signInEmails = meter.createCounter("kiloclaw.sign_in_emails", {
  description:
    "Sign-in email rows finished or retried, by outcome: sent, unknown_address, retried, failed, expired",
  unit: "{email}",
});

const rolloutGates = meter.createCounter("kiloclaw.rollout.gates", {
  description:
    "Health gate verdicts on rollout waves, by verdict: passed, failed (a failed verdict pauses the rollout)",
  unit: "{verdict}",
});

export function recordGateVerdict(verdict: "passed" | "failed"): void {
  rolloutGates.add(1, { verdict });
}

export type RowOutcome = "sent" | "failed" | "retried" | "voided" | "recovered";

export function recordNoticeRows(
  channel: string,
  outcome: RowOutcome,
  n: number,
): void {
  if (n > 0) noticeRows.add(n, { channel, outcome });
}

/** The outcomes of one group's marks (mark.ts's MarkCounts). */
export function recordSettled(
  channel: string,
  counts: { sent: number; failed: number; retried: number },
): void {
  recordNoticeRows(channel, "sent", counts.sent);
  recordNoticeRows(channel, "failed", counts.failed);
  recordNoticeRows(channel, "retried", counts.retried);
}

export function recordClaimsLost(n: number): void {
  if (n > 0) claimsLost.add(n);
}

export function recordBacklog(due: number, lagMs: number): void {
  noticesDue.record(due);
  sweepLag.record(Math.max(0, lagMs) / 1000);
}

export function recordSweepDuration(ms: number): void {
  sweepDuration.record(ms);
}

export function recordApply(
  result: { applied: number; skipped: number; failed: number },
  ms: number,
): void {
  applyDuration.record(ms);
  for (const outcome of ["applied", "skipped", "failed"] as const) {
    if (result[outcome] > 0) applyTargets.add(result[outcome], { outcome });
  }
}

export function recordProviderCall(
  provider: string,
  ms: number,
  ok: boolean,
): void {
  providerDuration.record(ms, { provider, outcome: ok ? "ok" : "error" });
}

export function recordRateLimited(provider: string): void {
  providerRateLimited.add(1, { provider });
}

export type SignInOutcome =
  | "sent"
  | "unknown_address"
  | "retried"
  | "failed"
  | "expired";

export function recordSignInEmail(outcome: SignInOutcome): void {
  signInEmails.add(1, { outcome });
}

/**
 * Runs `fn` in a span of its own (a child of the active one, if any); a
 * throw marks the span as an error and goes on up.
 */
export function inSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks a span as failed, with the error attached. */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
}

/** Sets the numbers of a run's counts as the span's attributes (`prefix.name`). */
export function setCounts(
  span: Span,
  prefix: string,
  counts: Record<string, unknown>,
): void {
  for (const [k, v] of Object.entries(counts)) {
    if (typeof v === "number") span.setAttribute(`${prefix}.${k}`, v);
  }
}

/** The trace id of the active span, for log lines; null outside any span or with telemetry off. */
export function currentTraceId(): string | null {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : null;
}
