/** A target's status with its skip reason or error underneath. */
import type { Target } from "@/lib/types.ts";
import { StatusPill } from "./StatusPill.tsx";

export function TargetStatus({ target }: { target: Target }) {
  return (
    <>
      <StatusPill status={target.status} />
      {target.skipReason && (
        <div class="muted small">{target.skipReason.replaceAll("_", " ")}</div>
      )}
      {target.error && <div class="error small">{target.error}</div>}
    </>
  );
}
