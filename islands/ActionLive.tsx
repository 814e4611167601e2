/**
 * The action page, live: progress, notices per channel, every instance with
 * its notices, and the cancel controls. While anything is pending or running
 * it asks `/api/admin/scheduled-actions/:id/progress` again every few
 * seconds (only while the page is visible), and at once after a sweep or a
 * cancel, so nothing reads "pending" after it went out.
 */
import { leftOutLine, noticeSummary, writingLine } from "@/lib/action_words.ts";
import { TargetRow } from "@/components/action/TargetRow.tsx";
import {
  OutcomeFilter,
  outcomeUrl,
} from "@/components/action/OutcomeFilter.tsx";
import {
  ProgressBar,
  WriteProgressBar,
} from "@/components/action/ProgressBar.tsx";
import { noticeDueAt } from "@/lib/due_times.ts";
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { pollWhileVisible } from "@/components/poll.ts";
import { isActionOpen, isMovable } from "@/lib/types.ts";
import type { ActionView } from "@/lib/views/action_view_model.ts";
import {
  formatDateTime,
  formatRelative,
  formatShortDateTime,
  formatUtc,
  localTimeZone,
} from "@/lib/format.ts";
import { StatusPill } from "@/components/StatusPill.tsx";
import { channelName, noticeKindName } from "@/lib/channel_names.ts";
import { CancelControl } from "@/components/CancelControl.tsx";
import { pauseLine, WaveTimeline } from "@/components/action/WaveTimeline.tsx";
import { RolloutControls } from "@/components/action/RolloutControls.tsx";
import SweepButton from "./SweepButton.tsx";
import MoveAction from "./MoveAction.tsx";

interface Props {
  view: ActionView;
  csrfToken: string | null;
  /** The zone the server rendered in; the browser's own after start-up. */
  timeZone: string | null;
  now: number;
  /** Which page of targets this is (passed back when refreshing). */
  targetCursor: string | null;
  pollSeconds?: number;
}

export default function ActionLive(props: Props) {
  const view = useSignal<ActionView>(props.view);
  const zone = useSignal<string | null>(props.timeZone);
  const now = useSignal(props.now);
  const message = useSignal<string | null>(null);
  const enhanced = useSignal(false);
  /** The Move form is open (in place of the Move button). */
  const moving = useSignal(false);
  const moveButton = useRef<HTMLButtonElement>(null);
  const refreshing = useRef<Promise<void> | null>(null);

  function refresh(): Promise<void> {
    if (refreshing.current) return refreshing.current;
    refreshing.current = (async () => {
      try {
        const q = new URLSearchParams();
        if (props.targetCursor) q.set("cursor", props.targetCursor);
        if (props.view.outcome) q.set("outcome", props.view.outcome);
        const res = await fetch(
          `/api/admin/scheduled-actions/${props.view.action.id}/progress?${q}`,
        );
        if (res.ok) {
          const next: ActionView = await res.json();
          // Written whole (or cancelled meanwhile): the page it becomes has
          // parts the server renders (owners' say, changes), so load it
          // anew, keeping what a cancel just said.
          if (
            view.value.action.status === "preparing" &&
            next.action.status !== "preparing"
          ) {
            const said = message.value;
            if (said) {
              location.assign(
                `/admin/actions/${
                  encodeURIComponent(next.action.id)
                }?${new URLSearchParams({ cancelled: said })}`,
              );
            } else location.reload();
            return;
          }
          view.value = next;
        }
      } catch {
        // Offline for a moment: the next round tries again.
      } finally {
        now.value = Date.now();
        refreshing.current = null;
      }
    })();
    return refreshing.current;
  }

  useEffect(() => {
    enhanced.value = true;
    zone.value = localTimeZone();
    now.value = Date.now();
    const often = (props.pollSeconds ?? 5) * 1000;
    // Every few seconds while something is about to happen (a notice due, the
    // action's time, an apply under way); every half minute otherwise.
    const every = () => {
      const v = view.value;
      const soon = Date.now() + 5 * 60_000;
      const due = [
        v.notices.nextDueAt,
        v.scheduledAt,
        // A later wave's start, and a soak whose gate has yet to judge it.
        ...v.stages.filter((s) => s.status === "pending").map((s) =>
          s.scheduledAt
        ),
        ...v.stages.filter((s) => s.gate?.verdict === null).map((s) =>
          s.soakUntil
        ),
      ]
        .filter((t): t is string => t !== null)
        .some((t) => Date.parse(t) <= soon);
      return v.action.status === "running" ||
          v.action.status === "preparing" || due
        ? often
        : 30_000;
    };
    return pollWhileVisible({
      every,
      tick: async () => {
        // A finished action only needs its clock to move on.
        if (view.value.live) await refresh();
        else now.value = Date.now();
      },
      wake: refresh,
    });
  }, []);

  const v = view.value;
  const a = v.action;
  const open = isActionOpen(a);
  // Only a cancel may touch an action still being written.
  const preparing = a.status === "preparing" && v.preparing &&
      "written" in v.preparing
    ? v.preparing
    : null;
  const leftOut = v.preparing && "writtenAt" in v.preparing
    ? v.preparing.leftOut
    : 0;
  const movable = v.stageStatus !== null && v.scheduledAt !== null &&
    isMovable(a, { status: v.stageStatus });
  const tz = zone.value;
  const t = now.value;
  const pageUrl = `/admin/actions/${a.id}`;
  const c = v.counters;
  const done = c.applied + c.skipped + c.failed;
  const when = (iso: string) => (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatDateTime(iso, tz)} ({formatRelative(iso, t)})
    </time>
  );
  const onDone = (text: string, goTo?: string) => {
    message.value = text;
    if (goTo) location.assign(goTo);
    else refresh();
  };
  // Owners' windows and postpones give an action several times too; only a rollout has waves.
  const inWaves = (a.waves?.length ?? 0) > 1;
  const paused = a.status === "paused";
  const pause = paused ? pauseLine(v.stages, a.gate) : null;

  return (
    <div class="action-live" data-enhanced={enhanced.value ? "" : undefined}>
      <div class="page-head">
        <h1>
          {a.label} <StatusPill status={a.status} />
        </h1>
        {(open || preparing) && (
          <div class="head-actions">
            {/* Only while nothing has begun: it goes as soon as the page sees the action start. */}
            {movable && !moving.value && (
              <button
                ref={moveButton}
                type="button"
                class="move-open"
                data-enhanced={enhanced.value ? "" : undefined}
                onClick={() => (moving.value = true)}
              >
                Move
              </button>
            )}
            <CancelControl
              id="action"
              label="Cancel action"
              question="Cancel this action for every instance that has not been changed yet? Owners who were warned are told it is called off."
              apiUrl={`/api/admin/scheduled-actions/${a.id}/cancel`}
              pageUrl={pageUrl}
              csrfToken={props.csrfToken}
              onDone={onDone}
            />
          </div>
        )}
        {paused && (
          <RolloutControls
            actionId={a.id}
            versionChange={a.actionType === "version_change"}
            onDone={onDone}
            pageUrl={pageUrl}
            csrfToken={props.csrfToken}
            timeZone={tz ?? "UTC"}
          />
        )}
      </div>
      {paused && (
        <p class="flash flash-error pause-line" data-testid="pause-line">
          <strong>{pause ?? "Paused: the rollout's gate stopped it"}</strong>.
          {" "}
          No later wave starts until it is resumed.
        </p>
      )}
      {a.abortedAfterWave != null && (
        <p class="flash flash-warn" data-testid="aborted-after">
          {a.abortedAfterWave === 0
            ? "Aborted before its first wave: no instance was changed."
            : `Aborted after wave ${a.abortedAfterWave}: the instances of the later waves were left as they were.`}
        </p>
      )}
      {(v.rollback.of || v.rollback.by) && (
        <p data-testid="rollback-links">
          {v.rollback.of && (
            <>
              Rolls back{" "}
              <a
                href={`/admin/actions/${encodeURIComponent(v.rollback.of.id)}`}
              >
                {v.rollback.of.label}
              </a>{" "}
              <StatusPill status={v.rollback.of.status} />
            </>
          )}
          {v.rollback.by && (
            <>
              Rolled back by{" "}
              <a
                href={`/admin/actions/${encodeURIComponent(v.rollback.by.id)}`}
              >
                {v.rollback.by.label}
              </a>{" "}
              <StatusPill status={v.rollback.by.status} />
            </>
          )}
        </p>
      )}
      {movable && moving.value && (
        <MoveAction
          actionId={a.id}
          scheduledAt={v.scheduledAt!}
          noticeLeadHours={a.noticeLeadHours}
          notify={a.notify}
          onClose={() => {
            moving.value = false;
            // Back where the keyboard was before the form opened.
            requestAnimationFrame(() => moveButton.current?.focus());
          }}
        />
      )}
      <p class="sr-status" role="status">{message.value ?? ""}</p>
      {message.value && <p class="flash flash-ok">{message.value}</p>}

      {leftOut > 0 && (
        <p class="flash flash-warn" data-testid="left-out">
          {leftOutLine(leftOut)}
        </p>
      )}

      <section class="progress-box" aria-labelledby="progress-title">
        <h2 id="progress-title">Progress</h2>
        {preparing && (
          <div data-testid="preparing">
            <p class="progress-line">
              <strong>{writingLine(preparing)}</strong>
            </p>
            <WriteProgressBar
              written={preparing.written}
              total={preparing.total}
            />
            <p>
              Nothing is sent and nothing is applied until the whole action is
              written. It can be cancelled meanwhile; it cannot be moved yet.
            </p>
          </div>
        )}
        {!preparing && (
          <>
            <p class="progress-line" data-testid="progress">
              {c.total > 0 && c.cancelled === c.total
                ? <strong>None done: every instance was cancelled</strong>
                : (
                  <>
                    <strong>{done} of {c.total - c.cancelled}</strong> done
                  </>
                )} · {c.applied} applied · {c.skipped} skipped · {c.failed}{" "}
              failed · {c.cancelled} cancelled
            </p>
            <ProgressBar counters={v.counters} />
          </>
        )}
        {a.notify
          ? (
            <table class="counts" data-testid="notice-counts">
              <caption class="visually-hidden">Notices per channel</caption>
              <thead>
                <tr>
                  <th scope="col">Notices</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Not delivered</th>
                  <th scope="col">Pending</th>
                  <th scope="col">Failed</th>
                </tr>
              </thead>
              <tbody>
                {v.notices.channels.map((n) => (
                  <tr data-channel={n.channel} data-kind={n.kind}>
                    <th scope="row">
                      {channelName(n.channel)}
                      {n.kind !== "notice" && (
                        <span class="muted">
                          {` · ${noticeKindName(n.kind).toLowerCase()}`}
                        </span>
                      )}
                    </th>
                    <td>{n.sent}</td>
                    <td
                      title={n.channel === "mobile_push"
                        ? "the owner had no device registered, or turned push warnings off"
                        : "the owner turned warnings by this channel off"}
                    >
                      {n.notDelivered}
                    </td>
                    <td>{n.pending}</td>
                    <td>{n.failed}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
          : <p class="muted">Owners are not notified for this action.</p>}
        {v.targets.some((t) =>
          t.notices.some((n) =>
            n.outboxId
          )
        ) && (
          <p class="small">
            <a href={`/admin/outbox?action=${encodeURIComponent(a.id)}`}>
              This action's messages in the outbox
            </a>
          </p>
        )}
        <div class="progress-foot">
          <SweepButton
            lastRun={v.lastRun}
            onDone={() => refresh()}
          />
          <p class="muted small">
            {v.live
              ? "This page refreshes on its own while anything is still to happen."
              : "Nothing is left to happen."}
          </p>
        </div>
      </section>

      {inWaves && (
        <WaveTimeline
          stages={v.stages}
          tz={tz}
          now={t}
          paused={a.status === "paused"}
        />
      )}

      <dl class="facts">
        <dt>
          {inWaves
            ? "Wave 1 at"
            : v.stages.length > 1
            ? "First at"
            : "Scheduled for"}
        </dt>
        <dd>
          {v.scheduledAt
            ? (
              <>
                {when(v.scheduledAt)}
                <div class="muted small">{formatUtc(v.scheduledAt)}</div>
              </>
            )
            : "—"}
        </dd>
        <dt>Notice</dt>
        <dd>
          {a.notify
            ? (
              <>
                {noticeSummary(a)}
                {v.scheduledAt && (
                  <div class="muted small">
                    due {formatShortDateTime(
                      // A lead longer than the time left was due when scheduled, not before.
                      Math.max(
                        noticeDueAt(a, { scheduledAt: v.scheduledAt }),
                        Date.parse(a.createdAt),
                      ),
                      tz,
                    )}
                  </div>
                )}
              </>
            )
            : "none"}
        </dd>
        {a.noticeSubject && (
          <>
            <dt>Subject</dt>
            <dd>{a.noticeSubject}</dd>
          </>
        )}
        {a.noticeBody && (
          <>
            <dt>Message</dt>
            <dd class="prewrap">{a.noticeBody}</dd>
          </>
        )}
        {a.actionType === "version_change" && (
          <>
            <dt>Pinned instances</dt>
            <dd>{a.overridePins ? "changed too" : "left out"}</dd>
          </>
        )}
        {a.reason && (
          <>
            <dt>Reason</dt>
            <dd>{a.reason}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          {when(a.createdAt)} by {a.creator}
        </dd>
        {v.cancellation && (
          <>
            <dt>Cancelled</dt>
            <dd data-testid="cancelled-by">
              {when(v.cancellation.at)} by {v.cancellation.byLabel}
              {v.cancellation.reason && (
                <div class="muted">“{v.cancellation.reason}”</div>
              )}
            </dd>
          </>
        )}
        <dt>Id</dt>
        <dd>
          <code>{a.id}</code>
        </dd>
      </dl>

      <h2>Instances</h2>
      <OutcomeFilter
        pageUrl={pageUrl}
        outcomes={v.outcomes}
        current={v.outcome}
        total={c.total}
      />
      {v.outcome && v.targets.length === 0 && (
        <p class="empty" data-testid="no-targets">
          No instance has this outcome now.
        </p>
      )}
      <div class="table-wrap">
        <table class="responsive targets">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Change</th>
              <th scope="col">Status</th>
              <th scope="col">Notices</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {v.targets.map((target) => (
              <TargetRow
                target={target}
                open={open}
                tz={tz}
                now={t}
                actionId={a.id}
                pageUrl={pageUrl}
                csrfToken={props.csrfToken}
                onDone={onDone}
              />
            ))}
          </tbody>
        </table>
      </div>
      {v.cursor && (
        <p>
          <a
            href={`${outcomeUrl(pageUrl, v.outcome)}${
              v.outcome ? "&" : "?"
            }cursor=${encodeURIComponent(v.cursor)}`}
          >
            More instances →
          </a>
        </p>
      )}
    </div>
  );
}
