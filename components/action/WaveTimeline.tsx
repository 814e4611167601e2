/**
 * A rollout's waves, first to last: when each is planned, how it went
 * (applied, failed, skipped), the health of its changed instances, its soak
 * and the gate's verdict. Also the sentence that says why a paused rollout
 * stopped. No KV, no server-only imports: the action page's island draws it.
 */
import type { GateSpec } from "@/lib/types.ts";
import type { StageView } from "@/lib/views/action_view_model.ts";
import { formatDateTime, formatRelative, formatUtc } from "@/lib/format.ts";
import { StatusPill } from "../StatusPill.tsx";

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** "5 %", "2.5 %" */
function pct(n: number): string {
  return `${Number(n.toFixed(2))} %`;
}

/**
 * "Paused: wave 1 — 3 of 100 failed, 7 unhealthy, over the 5 % gate": the
 * wave whose gate failed, what it found and the limit it passed.
 */
export function pauseLine(
  stages: StageView[],
  gate: GateSpec | null | undefined,
): string | null {
  const failed = stages.findLast((s) => s.gate?.verdict === "failed");
  if (!failed || !gate) return null;
  const g = failed.gate!;
  const overFailed = g.failedPercent > gate.maxFailedPercent;
  const overUnhealthy = g.unhealthyPercent > gate.maxUnhealthyPercent;
  const limit = gate.maxFailedPercent === gate.maxUnhealthyPercent
    ? `the ${pct(gate.maxFailedPercent)} gate`
    : [
      overFailed && `the ${pct(gate.maxFailedPercent)} failed gate`,
      overUnhealthy && `the ${pct(gate.maxUnhealthyPercent)} unhealthy gate`,
    ].filter(Boolean).join(" and ") || "the gate";
  return `Paused: wave ${failed.index + 1} — ${failed.failed} of ${
    failed.size.toLocaleString("en-US")
  } failed, ${failed.unhealthy} unhealthy, over ${limit}`;
}

function Verdict({ stage }: { stage: StageView }) {
  const g = stage.gate;
  if (!g) return <span class="muted">no gate after it</span>;
  const shares = `${pct(g.failedPercent)} failed, ${
    pct(g.unhealthyPercent)
  } unhealthy`;
  if (g.verdict === "passed") {
    return <span class="gate-passed">gate passed ({shares})</span>;
  }
  if (g.verdict === "failed" && g.resumedAt) {
    return (
      <span>
        <strong class="danger-text">gate failed ({shares})</strong>; an admin
        resumed the rollout over it
      </span>
    );
  }
  if (g.verdict === "failed") {
    return <strong class="danger-text">gate failed ({shares})</strong>;
  }
  return <span class="muted">gate not judged yet</span>;
}

export function WaveTimeline(
  { stages, tz, now, paused = false }: {
    stages: StageView[];
    tz: string | null;
    now: number;
    /** The rollout is paused: its pending waves will not start at their planned times. */
    paused?: boolean;
  },
) {
  const when = (iso: string) => (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatDateTime(iso, tz)} ({formatRelative(iso, now)})
    </time>
  );
  return (
    <section class="waves" aria-labelledby="waves-title">
      <h2 id="waves-title">Waves</h2>
      <ol class="wave-list" data-testid="waves">
        {stages.map((s) => {
          const read = s.healthy + s.unhealthy + s.unknown > 0 ||
            s.gate?.at != null;
          return (
            <li
              class={`wave wave-${s.status}${
                s.gate?.verdict === "failed" ? " wave-gate-failed" : ""
              }`}
              data-testid={`wave-${s.index + 1}`}
            >
              <h3>
                Wave {s.index + 1}{" "}
                <span class="muted small">{plural(s.size, "instance")}</span>
                {" "}
                <StatusPill status={s.status} />
              </h3>
              {paused && s.status === "pending"
                ? (
                  // A countdown to a time that will not happen would mislead.
                  <p class="small" data-testid="wave-planned">
                    <strong>On hold</strong>: it was planned for{" "}
                    <time
                      dateTime={s.scheduledAt}
                      title={formatUtc(s.scheduledAt)}
                    >
                      {formatDateTime(s.scheduledAt, tz)}
                    </time>
                    ; a resume gives it a new time.
                  </p>
                )
                : (
                  <p class="small" data-testid="wave-planned">
                    Planned for {when(s.scheduledAt)}{" "}
                    <span class="muted">· {formatUtc(s.scheduledAt)}</span>
                  </p>
                )}
              <p class="small" data-testid="wave-counts">
                {s.applied} applied · {s.failed} failed · {s.skipped} skipped
                {s.cancelled > 0 ? ` · ${s.cancelled} cancelled` : ""}
              </p>
              <p class="small" data-testid="wave-health">
                {read
                  ? (
                    <>
                      Health: {s.healthy} healthy · {s.unhealthy} unhealthy ·
                      {" "}
                      {s.unknown} unknown
                    </>
                  )
                  : <span class="muted">Health not read yet</span>}
              </p>
              <p class="small" data-testid="wave-gate">
                {s.soakMinutes > 0
                  ? (
                    <>
                      Soak {plural(s.soakMinutes, "minute")}
                      {s.soakUntil
                        ? <>, until {when(s.soakUntil)}</>
                        : " after its changes land"}
                      {" · "}
                    </>
                  )
                  : s.gate
                  ? "No soak · "
                  : ""}
                <Verdict stage={s} />
                {s.gate?.at && (
                  <span class="muted">
                    {` (read ${formatDateTime(s.gate.at, tz)})`}
                  </span>
                )}
              </p>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
