/** A target's notification rows, one compact line each. */
import type { Notification } from "@/lib/types.ts";
import { StatusPill } from "./StatusPill.tsx";

export function NotificationList({ rows }: { rows: Notification[] }) {
  if (rows.length === 0) return <span class="muted small">none</span>;
  return (
    <ul class="plain small">
      {rows.map((n) => (
        <li title={n.error ?? undefined}>
          {n.kind}
          {n.reminderLeadHours !== undefined && ` ${n.reminderLeadHours} h`} ·
          {" "}
          {n.channel} <StatusPill status={n.status} />
          {n.attempts > 1 && <span class="muted">{n.attempts} attempts</span>}
          {n.error && <div class="muted">{n.error}</div>}
        </li>
      ))}
    </ul>
  );
}
