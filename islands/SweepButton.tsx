/** "Run notice sweep now": runs the sweep and shows its counts, like the minute job does. */
import { useSignal } from "@preact/signals";
import type { SweepRun } from "@/lib/types.ts";
import { formatDateTime, localTimeZone } from "@/lib/format.ts";

export default function SweepButton(
  { lastRun, onDone }: {
    lastRun: SweepRun | null;
    /** Inside another island: what to do once the sweep has run (refresh the page's data). */
    onDone?: () => void;
  },
) {
  const run = useSignal<SweepRun | null>(lastRun);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);

  async function sweep() {
    busy.value = true;
    error.value = null;
    try {
      const res = await fetch("/api/admin/notices/sweep", { method: "POST" });
      const json = await res.json();
      if (!res.ok) throw new Error(json.error ?? `status ${res.status}`);
      run.value = await fetch("/api/admin/notices/last-run").then((r) =>
        r.json()
      );
      onDone?.();
    } catch (err) {
      error.value = `Sweep failed: ${(err as Error).message}`;
    } finally {
      busy.value = false;
    }
  }

  const r = run.value;
  return (
    <div class="sweep">
      <button
        type="button"
        class="secondary"
        onClick={sweep}
        disabled={busy.value}
      >
        {busy.value ? "Sweeping…" : "Run notice sweep now"}
      </button>{" "}
      <span class="muted small" data-testid="last-run">
        {r
          ? `Last run ${
            formatDateTime(r.finishedAt, localTimeZone())
          }: processed ${r.processed}, sent ${r.sent}, failed ${r.failed}${
            r.recovered
              ? `, ${r.recovered} taken over from a stalled sweep`
              : ""
          }${
            r.voidedStale
              ? `, ${r.voidedStale} no longer needed (their action moved on)`
              : ""
          }`
          : "No sweep has run yet."}
      </span>
      {error.value && <p class="error small" role="alert">{error.value}</p>}
    </div>
  );
}
