/** A target's notification rows, one compact line each, in the words the action page uses. */
import type { Notification } from "@/lib/types.ts";
import { channelName, noticeKindName } from "@/lib/channel_names.ts";
import { StatusPill } from "./StatusPill.tsx";

export function NotificationList({ rows }: { rows: Notification[] }) {
  if (rows.length === 0) return <span class="muted small">none</span>;
  return (
    <ul class="plain small">
      {rows.map((n) => (
        <li
          title={n.error ?? undefined}
          data-channel={n.channel}
          data-kind={n.kind}
        >
          {noticeKindName(n.kind)}
          {n.reminderLeadHours !== undefined &&
            ` (${n.reminderLeadHours} h ahead)`} · {channelName(n.channel)}{" "}
          {n.turnedOff
            ? <span class="pill pill-no-device">turned off by the owner</span>
            : <StatusPill status={n.status} />}
          {n.attempts > 1 && <span class="muted">{n.attempts} attempts</span>}
          {n.error && !n.turnedOff && <div class="muted">{n.error}</div>}
          {n.quietUntil && n.status === "pending" && (
            <div class="muted">held for the owner's quiet hours</div>
          )}
        </li>
      ))}
    </ul>
  );
}
