/**
 * Deno's own OpenTelemetry exporter, pointed at a local OTLP/HTTP receiver
 * (JSON protocol): after two sweeps and an apply in a child process, the
 * receiver holds the app's metrics with the right counts, the sweep and
 * apply spans with theirs (provider calls inside them), and log lines that
 * carry their span's trace id.
 */
import assert from "node:assert/strict";

type Attr = {
  key: string;
  value: {
    stringValue?: string;
    intValue?: string | number;
    doubleValue?: number;
    boolValue?: boolean;
  };
};
interface DataPoint {
  attributes?: Attr[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
  timeUnixNano: string;
}
interface Metric {
  name: string;
  unit?: string;
  sum?: { dataPoints: DataPoint[] };
  gauge?: { dataPoints: DataPoint[] };
  histogram?: { dataPoints: DataPoint[] };
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes?: Attr[];
}
interface LogRecord {
  body?: { stringValue?: string };
  traceId: string;
  spanId: string;
}

const attrValue = (v: Attr["value"]) =>
  v.stringValue ?? v.boolValue ??
    (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
const attrs = (list: Attr[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, attrValue(a.value)]));

/** A local OTLP/HTTP receiver for the JSON protocol. */
function startReceiver() {
  const bodies = {
    metrics: [] as unknown[],
    traces: [] as unknown[],
    logs: [] as unknown[],
  };
  const handling = new Set<Promise<unknown>>();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => {
      const work = (async () => {
        const signal = new URL(req.url).pathname.replace("/v1/", "");
        assert.equal(req.headers.get("content-type"), "application/json");
        const body = await req.json();
        if (signal in bodies) bodies[signal as keyof typeof bodies].push(body);
        return Response.json({});
      })();
      handling.add(work);
      work.finally(() => handling.delete(work));
      return work;
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bodies,
    async close() {
      await Promise.allSettled([...handling]);
      await server.shutdown();
    },
  };
}

/** The last data point of each metric and attribute set (cumulative: the totals). */
function metricPoints(bodies: unknown[]) {
  const points = new Map<
    string,
    { name: string; attrs: Record<string, unknown>; point: DataPoint }
  >();
  for (const body of bodies as { resourceMetrics: unknown[] }[]) {
    for (
      const rm of body.resourceMetrics as {
        scopeMetrics: { scope: { name: string }; metrics: Metric[] }[];
      }[]
    ) {
      for (const sm of rm.scopeMetrics) {
        if (sm.scope.name !== "kiloclaw-scheduler") continue;
        for (const m of sm.metrics) {
          const dps = m.sum?.dataPoints ?? m.gauge?.dataPoints ??
            m.histogram?.dataPoints ?? [];
          for (const p of dps) {
            const a = attrs(p.attributes);
            const id = `${m.name} ${JSON.stringify(a)}`;
            const prev = points.get(id);
            if (
              !prev || BigInt(prev.point.timeUnixNano) <= BigInt(p.timeUnixNano)
            ) {
              points.set(id, { name: m.name, attrs: a, point: p });
            }
          }
        }
      }
    }
  }
  return [...points.values()];
}

function spansOf(bodies: unknown[]): Span[] {
  return (bodies as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] }[])
    .flatMap((b) =>
      b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))
    );
}

function logsOf(bodies: unknown[]): LogRecord[] {
  return (bodies as {
    resourceLogs: { scopeLogs: { logRecords: LogRecord[] }[] }[];
  }[]).flatMap((b) =>
    b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))
  );
}

Deno.test({
  name:
    "telemetry: a sweep's and an apply's metrics, spans and logs reach an OTLP receiver",
  async fn() {
    const receiver = await startReceiver();
    let stdout = "";
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-check",
          "tests/operations/_telemetry_worker.ts",
        ],
        env: {
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: "kiloclaw-telemetry-test",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    } finally {
      await receiver.close();
    }
    const expected = JSON.parse(stdout.match(/^EXPECT (.*)$/m)![1]);

    // Metrics.
    const points = metricPoints(receiver.bodies.metrics);
    const value = (name: string, want: Record<string, unknown> = {}) => {
      const p = points.find((x) =>
        x.name === name &&
        Object.entries(want).every(([k, v]) => x.attrs[k] === v)
      );
      assert.ok(p, `${name} ${JSON.stringify(want)} was exported`);
      return Number(p.point.asInt ?? p.point.asDouble ?? p.point.count);
    };
    const rows = (channel: string, outcome: string) =>
      value("kiloclaw.notices.rows", { channel, outcome });
    assert.equal(rows("webapp", "sent"), 3);
    assert.equal(rows("email", "retried"), 3, "the 500 sent the group back");
    assert.equal(rows("email", "sent"), 3, "sent by the second sweep");
    assert.equal(rows("email", "voided"), 2, "too late for the other action");
    assert.equal(
      points.filter((p) => p.name === "kiloclaw.notices.rows").length,
      4,
      "nothing else was counted",
    );
    assert.equal(value("kiloclaw.notices.due"), expected.dueAtLastSweep);
    assert.equal(expected.dueAtLastSweep, 3);
    assert.equal(
      value("kiloclaw.notices.sweep_lag"),
      expected.lagAtLastSweepSeconds,
    );
    assert.ok(expected.lagAtLastSweepSeconds > 0);
    assert.equal(value("kiloclaw.sweep.duration"), 2, "two sweeps timed");
    assert.equal(value("kiloclaw.apply.duration"), 1);
    assert.equal(value("kiloclaw.apply.targets", { outcome: "applied" }), 2);
    assert.equal(
      value("kiloclaw.provider.rate_limited", { provider: "resend" }),
      1,
    );
    assert.equal(
      value("kiloclaw.provider.duration", {
        provider: "resend",
        outcome: "error",
      }),
      2,
      "the 429 and the 500",
    );
    assert.equal(
      value("kiloclaw.provider.duration", {
        provider: "resend",
        outcome: "ok",
      }),
      expected.resendRequests - 2,
    );

    // Spans: each sweep and the apply, with their counts; provider calls inside.
    const spans = spansOf(receiver.bodies.traces);
    const sweeps = spans.filter((s) => s.name === "notice sweep");
    assert.equal(sweeps.length, 2);
    const [first, second] = sweeps.map((s) => attrs(s.attributes));
    assert.equal(first["kiloclaw.sent"], 3);
    assert.equal(first["kiloclaw.retried"], 3);
    assert.equal(first["kiloclaw.voidedStale"], 2);
    assert.equal(second["kiloclaw.sent"], 3);
    const apply = spans.find((s) => s.name === "apply");
    assert.ok(apply);
    assert.equal(attrs(apply.attributes)["kiloclaw.applied"], 2);
    const sweepIds = new Set(sweeps.map((s) => s.spanId));
    const inside = (s: Span): boolean => {
      if (sweepIds.has(s.parentSpanId)) return true;
      const parent = spans.find((p) => p.spanId === s.parentSpanId);
      return parent ? inside(parent) : false;
    };
    const calls = spans.filter((s) =>
      s.kind === 3 &&
      attrs(s.attributes)["url.full"]?.toString().includes("/emails")
    );
    assert.equal(calls.length, expected.resendRequests);
    assert.ok(
      calls.every(inside),
      "every call to Resend is inside a sweep span",
    );

    // Logs: the job's line carries its trace id, in the text and as context.
    const logs = logsOf(receiver.bodies.logs);
    for (const sweep of sweeps) {
      const line = logs.find((l) =>
        l.traceId === sweep.traceId &&
        l.body?.stringValue?.includes("notice sweep done")
      );
      assert.ok(line, "the sweep's log line is exported in its trace");
      assert.ok(line.body!.stringValue!.includes(`trace=${sweep.traceId}`));
    }
  },
});
