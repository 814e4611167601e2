import type { ActionView } from "@/lib/views/action_view_model.ts";

/** Applied, skipped, failed and cancelled as one bar (SVG: the page's CSP allows no inline styles). */
export function ProgressBar(
  { counters: c }: { counters: ActionView["counters"] },
) {
  const total = Math.max(c.total, 1);
  let x = 0;
  const part = (n: number, cls: string) => {
    const w = (100 * n) / total;
    const rect = <rect class={cls} x={x} y={0} width={w} height={1} />;
    x += w;
    return rect;
  };
  return (
    <svg
      class="bar"
      viewBox="0 0 100 1"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${c.applied + c.skipped + c.failed} of ${
        c.total - c.cancelled
      } instances done${c.cancelled ? `, ${c.cancelled} cancelled` : ""}`}
    >
      {part(c.applied, "bar-applied")}
      {part(c.skipped, "bar-skipped")}
      {part(c.failed, "bar-failed")}
      {part(c.cancelled, "bar-cancelled")}
    </svg>
  );
}

/** A large action's background write: how many of its instances are written. */
export function WriteProgressBar(
  { written, total }: { written: number; total: number },
) {
  return (
    <svg
      class="bar"
      viewBox="0 0 100 1"
      preserveAspectRatio="none"
      role="img"
      aria-label={`${written.toLocaleString("en-US")} of ${
        total.toLocaleString("en-US")
      } instances written`}
    >
      <rect
        class="bar-written"
        x={0}
        y={0}
        width={(100 * Math.min(written, total)) / Math.max(total, 1)}
        height={1}
      />
    </svg>
  );
}
