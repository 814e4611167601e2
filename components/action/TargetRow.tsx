/**
 * One instance of an action on its page: what changes, its status (and why
 * it was skipped or who cancelled it), each of its notices, and the control
 * that leaves it out. Rendered by the action page's island.
 */
import type { NoticeView, TargetView } from "@/lib/views/action_view_model.ts";
import {
  formatRelative,
  formatShortDateTime,
  formatUtc,
} from "@/lib/format.ts";
import { channelName, noticeKindName } from "@/lib/channel_names.ts";
import { skipReasonLabel } from "@/lib/action_words.ts";
import { StatusPill } from "../StatusPill.tsx";
import { CancelControl } from "../CancelControl.tsx";

export function TargetRow(
  { target, open, tz, now, actionId, pageUrl, csrfToken, onDone }: {
    target: TargetView;
    open: boolean;
    tz: string | null;
    now: number;
    actionId: string;
    pageUrl: string;
    csrfToken: string | null;
    onDone: (message: string) => void;
  },
) {
  const name = target.instanceName ?? target.instanceId;
  return (
    <tr data-target={target.id}>
      <td data-label="Instance">
        <div>
          <a href={`/admin/instances/${target.instanceId}`}>{name}</a>
          <div class="muted small">{target.owner}</div>
        </div>
      </td>
      <td data-label="Change">
        <span>
          <code>{target.from}</code>
          {target.to !== target.from && (
            <>
              {" → "}
              <code>{target.to}</code>
            </>
          )}
        </span>
      </td>
      <td data-label="Status">
        <div>
          <StatusPill
            status={target.skipReason === "cancelled"
              ? "cancelled"
              : target.status}
          />
          {target.skipReason && target.skipReason !== "cancelled" && (
            <div class="muted small">
              {skipReasonLabel(target.skipReason)}
            </div>
          )}
          {target.error && <div class="error small">{target.error}</div>}
          {target.cancellation && (
            <div class="muted small">
              by {target.cancellation.byLabel},{" "}
              {formatShortDateTime(target.cancellation.at, tz)}
              {target.cancellation.reason &&
                ` — “${target.cancellation.reason}”`}
            </div>
          )}
        </div>
      </td>
      <td data-label="Notices">
        {target.notices.length === 0
          ? <span class="muted small">none</span>
          : (
            <ul class="plain notices">
              {target.notices.map((n) => (
                <NoticeLine notice={n} tz={tz} now={now} />
              ))}
            </ul>
          )}
      </td>
      <td data-label="" class="row-actions">
        {open && target.status === "pending" && (
          <CancelControl
            id={target.id}
            label="Cancel for this instance"
            question={`Leave ${name} out of this action? Its owner is told if they were warned.`}
            apiUrl={`/api/admin/scheduled-actions/${actionId}/targets/${target.id}/cancel`}
            pageUrl={pageUrl}
            targetId={target.id}
            csrfToken={csrfToken}
            onDone={onDone}
          />
        )}
      </td>
    </tr>
  );
}

/** What kind of notice a line is, after its channel. */
function kindLabel(n: NoticeView): string {
  switch (n.kind) {
    case "notice":
      return "";
    case "reminder":
      return n.reminderLeadHours !== null
        ? ` (reminder, ${n.reminderLeadHours} h ahead)`
        : " (reminder)";
    case "on_hold":
      // The message that the rollout paused, not a notice held back.
      return " (on-hold message)";
    default:
      return ` (${noticeKindName(n.kind).toLowerCase()})`;
  }
}

function NoticeLine(
  { notice: n, tz, now }: {
    notice: NoticeView;
    tz: string | null;
    now: number;
  },
) {
  const when = (iso: string) => (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatShortDateTime(iso, tz)} ({formatRelative(iso, now)})
    </time>
  );
  return (
    <li class="notice-line" data-channel={n.channel} data-kind={n.kind}>
      <span class="notice-what">
        {channelName(n.channel)}
        {kindLabel(n)}
      </span>{" "}
      {n.noDevice
        ? <span class="pill pill-no-device">not delivered</span>
        : n.turnedOff
        ? <span class="pill pill-no-device">turned off by the owner</span>
        : <StatusPill status={n.status} />}
      <div class="muted small">
        {n.noDevice
          ? "no device registered: nothing delivered"
          : n.channel === "webapp"
          ? ""
          : `to ${n.recipient}`}
        {n.status === "sent" && n.sentAt && (
          <>
            {n.channel === "webapp"
              ? "shown since "
              : n.noDevice
              ? ", checked "
              : ", sent "}
            {when(n.sentAt)}
          </>
        )}
        {n.held && (
          <>
            {n.channel === "webapp" ? "" : ", "}held while the rollout is paused
          </>
        )}
        {n.status === "pending" && n.dueAt && (
          <>
            {n.channel === "webapp" ? "" : ", "}
            {n.retry ? "next attempt " : "due "}
            {when(n.dueAt)}
            {n.quietHours && ", when the owner's quiet hours end"}
          </>
        )}
        {n.attempts > 0 && (
          <>
            {" "}· {n.attempts} attempt{n.attempts === 1 ? "" : "s"}
          </>
        )}
        {n.outboxId && (
          <>
            {" "}·{" "}
            <a href={`/admin/outbox/${n.outboxId}`}>
              View {n.channel === "email" ? "email" : "push"}
              <span class="visually-hidden">sent to {n.recipient}</span>
            </a>
          </>
        )}
      </div>
      {n.error && !n.turnedOff && (
        <div class={n.status === "failed" ? "error small" : "muted small"}>
          {n.status === "failed" ? "" : "last error: "}
          {n.error}
        </div>
      )}
      {n.earlier.length > 0 && (
        <ul class="plain muted small earlier-sends">
          {n.earlier.map((e) => (
            <li>
              earlier: moved from {formatShortDateTime(e.movedFrom, tz)} to{" "}
              {formatShortDateTime(e.movedTo, tz)},{" "}
              {e.sentAt ? <>sent {when(e.sentAt)}</> : "may have been sent"}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
