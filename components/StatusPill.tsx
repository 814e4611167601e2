/** What a status word alone does not tell. */
const HINTS: Record<string, string> = {
  preparing:
    "Its instances are still being written: nothing is sent or applied until the whole action is written.",
};

/** A coloured word for a status (instance, action, target, notification). */
export function StatusPill({ status }: { status: string }) {
  return (
    <span class={`pill pill-${status}`} title={HINTS[status]}>
      {status.replaceAll("_", " ")}
    </span>
  );
}
