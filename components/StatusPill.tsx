/** A coloured word for a status (instance, action, target, notification). */
export function StatusPill({ status }: { status: string }) {
  return (
    <span class={`pill pill-${status}`}>{status.replaceAll("_", " ")}</span>
  );
}
