/**
 * How long the oldest due notice has waited, as `/healthz` reports it (the
 * same numbers an on-call engineer's monitor reads, "sweep lag" there),
 * refreshed every 30 seconds.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

/** The part of `/healthz`'s answer shown here. */
interface HealthView {
  ok: boolean;
  problems: string[];
  sweepLagSeconds: number;
  secondsSinceSweep: number;
  lastSweepAt: string | null;
}

function formatSeconds(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3_600)} h`;
}

export default function SweepLag() {
  const health = useSignal<HealthView | null>(null);
  const error = useSignal<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const res = await fetch("/healthz");
        const json = await res.json();
        if (stopped) return;
        health.value = json;
        error.value = null;
      } catch (err) {
        if (!stopped) error.value = (err as Error).message;
      }
    };
    load();
    const timer = setInterval(load, 30_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const h = health.value;
  return (
    <p
      class={`small ${h && !h.ok ? "error" : "muted"}`}
      data-testid="sweep-lag"
      role="status"
    >
      {error.value
        ? `Notice delay unknown: ${error.value}`
        : h
        ? `${
          h.sweepLagSeconds > 0
            ? `Notices waiting up to ${formatSeconds(h.sweepLagSeconds)}`
            : "Notices on time"
        } · last sweep ${
          h.lastSweepAt
            ? `${formatSeconds(h.secondsSinceSweep)} ago`
            : "not yet run"
        }${h.ok ? "" : ` · ${h.problems.join("; ")}`}`
        : "Notices: checking…"}
    </p>
  );
}
