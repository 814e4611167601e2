/** The waves' timeline says when a failed verdict was resumed over, and never hides the verdict. */
import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { WaveTimeline } from "@/components/action/WaveTimeline.tsx";
import type { StageView } from "@/lib/views/action_view_model.ts";

const NOW = Date.parse("2030-03-04T12:00:00Z");

function wave(gate: StageView["gate"]): StageView {
  return {
    actionId: "a1",
    index: 0,
    scheduledAt: "2030-03-04T10:00:00.000Z",
    status: "completed",
    startedAt: "2030-03-04T10:00:00.000Z",
    finishedAt: "2030-03-04T10:01:00.000Z",
    size: 10,
    applied: 10,
    skipped: 0,
    failed: 0,
    cancelled: 0,
    healthy: 0,
    unhealthy: 10,
    unknown: 0,
    soakMinutes: 0,
    soakUntil: "2030-03-04T10:01:00.000Z",
    gate,
  };
}

const failed = {
  verdict: "failed" as const,
  at: "2030-03-04T10:01:00.000Z",
  failedPercent: 0,
  unhealthyPercent: 100,
};

Deno.test("wave timeline: a failed verdict stays shown, and says when an admin resumed over it", () => {
  const html = (resumedAt: string | null) =>
    renderToString(
      <WaveTimeline
        stages={[wave({ ...failed, resumedAt })]}
        tz="UTC"
        now={NOW}
      />,
    );
  const before = html(null);
  assert.match(before, /gate failed/);
  assert.doesNotMatch(before, /resumed the rollout over it/);
  const after = html("2030-03-04T11:00:00.000Z");
  assert.match(after, /gate failed/);
  assert.match(after, /an admin\s+resumed the rollout over it/);
});
