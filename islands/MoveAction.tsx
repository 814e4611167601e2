/**
 * Moves an action to another time: pick the time (and lead), review what
 * owners will be told — when the notice and reminders go out at the new
 * time, and the message owners already warned get about the move, as the
 * server renders it — confirm; then the dialog says what was done, and
 * "Done" shows the page at the new time. The action page's live part
 * (`ActionLive`) opens it with its Move button, beside Cancel action, while
 * the action can still move.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import {
  formatDateTime,
  formatUtc,
  fromZonedInput,
  localTimeZone,
  toZonedInput,
} from "@/lib/format.ts";
import { timeHint, zoneLabel } from "@/lib/views/form_model.ts";
import type { Issue } from "@/lib/errors.ts";
import type { MovePreview } from "@/lib/preview/preview_model.ts";

/** What the move's fields are called on the dialog, for the server's problems. */
const LABELS: Record<string, string> = {
  scheduledAt: "The new time",
  noticeLeadHours: "The hours of notice",
  reason: "The reason",
};

function sayIssue(i: Issue): string {
  const label = LABELS[i.path.split(".")[0]];
  const text = label && /^(must|is|are|each)\b/.test(i.message)
    ? `${label}: ${i.message}`
    : i.message;
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

interface Moved {
  to: string;
  moved: number;
}

export default function MoveAction(
  { actionId, scheduledAt, noticeLeadHours, notify, onClose }: {
    actionId: string;
    scheduledAt: string;
    noticeLeadHours: number;
    notify: boolean;
    onClose: () => void;
  },
) {
  // Opened from the Move button: the keyboard goes on to the time.
  const first = useRef<HTMLInputElement>(null);
  const doneButton = useRef<HTMLButtonElement>(null);
  const reviewHeading = useRef<HTMLParagraphElement>(null);
  useEffect(() => first.current?.focus(), []);
  // The browser's own zone: the time typed is read there, and named.
  const zone = localTimeZone();
  const review = useSignal<MovePreview | null>(null);
  const when = useSignal(toZonedInput(scheduledAt, zone));
  /** The admin has changed the time (or tried to go on with it as it was). */
  const touched = useSignal(false);
  const lead = useSignal(String(noticeLeadHours));
  const reason = useSignal("");
  const busy = useSignal(false);
  const problems = useSignal<string[]>([]);
  const done = useSignal<Moved | null>(null);

  const picked = fromZonedInput(when.value, zone);
  // The same minute as now: nothing would move.
  const unchanged = picked.ok &&
    Math.floor(picked.ms / 60_000) ===
      Math.floor(Date.parse(scheduledAt) / 60_000);
  const inZone = (d: Date | string) =>
    zone === "UTC"
      ? formatUtc(d)
      : `${formatDateTime(d, zone)} (${formatUtc(d)})`;

  function body(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      scheduledAt: picked.ok ? new Date(picked.ms).toISOString() : when.value,
      noticeLeadHours: /^\d{1,3}$/.test(lead.value.trim())
        ? Number(lead.value.trim())
        : lead.value,
    };
    if (reason.value.trim()) out.reason = reason.value.trim();
    return out;
  }

  /** Posts to the move's endpoint (or its dry run); the answer, or null with the problems said. */
  async function post<T>(path: string): Promise<T | null> {
    busy.value = true;
    problems.value = [];
    try {
      const res = await fetch(
        `/api/admin/scheduled-actions/${actionId}/${path}`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body()),
        },
      );
      const json = await res.json().catch(() => ({}));
      if (res.ok) return json as T;
      problems.value = Array.isArray(json.issues) && json.issues.length
        ? (json.issues as Issue[]).map(sayIssue)
        : [json.error ?? `The server answered ${res.status}.`];
    } catch (err) {
      problems.value = [
        `Could not reach the server (${(err as Error).message}). Try again.`,
      ];
    } finally {
      busy.value = false;
    }
    return null;
  }

  async function reviewMove() {
    touched.value = true;
    if (!picked.ok) {
      problems.value = ["Enter the new date and time."];
      first.current?.focus();
      return;
    }
    if (unchanged) {
      first.current?.focus();
      return;
    }
    const answer = await post<MovePreview>("reschedule/preview");
    if (!answer) return;
    review.value = answer;
    requestAnimationFrame(() => reviewHeading.current?.focus());
  }

  async function confirmMove() {
    const answer = await post<{ reschedule: Moved }>("reschedule");
    if (!answer) return;
    done.value = answer.reschedule;
    review.value = null;
    requestAnimationFrame(() => doneButton.current?.focus());
  }

  const r = review.value;
  return (
    <div
      class="move-action stack narrow"
      role="dialog"
      aria-label="Move action"
    >
      {done.value
        ? (
          <div class="stack" role="status" data-testid="move-done">
            <p>
              <strong>Moved to {inZone(done.value.to)}.</strong> {notify
                ? done.value.moved === 0
                  ? "No instance was still waiting: nobody is told."
                  : "Owners already warned are told it moved; the others get their notice at the new time."
                : "Owners are not told (the action sends no notices)."}
            </p>
            <div>
              <button
                type="button"
                ref={doneButton}
                onClick={() => location.reload()}
              >
                Done
              </button>
            </div>
          </div>
        )
        : !r
        ? (
          <form
            class="stack"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              reviewMove();
            }}
          >
            <label>
              New time{" "}
              <span class="zone-name">in {zoneLabel(zone, Date.now())}</span>
              <input
                ref={first}
                type="datetime-local"
                name="moveTo"
                value={when.value}
                required
                aria-describedby="move-time-hint"
                aria-invalid={touched.value && (unchanged || !picked.ok)
                  ? "true"
                  : undefined}
                onInput={(e) => {
                  when.value = e.currentTarget.value;
                  touched.value = true;
                }}
              />
            </label>
            <p id="move-time-hint" class="hint small" aria-live="polite">
              {touched.value && unchanged
                ? "That is the action's time now: pick another."
                : timeHint(when.value, zone, Date.now())}
            </p>
            {notify && (
              <label>
                <span>
                  Hours of notice <span class="hint">(1–168)</span>
                </span>
                <input
                  type="number"
                  name="moveLeadHours"
                  min={1}
                  max={168}
                  inputMode="numeric"
                  value={lead.value}
                  onInput={(e) => (lead.value = e.currentTarget.value)}
                />
              </label>
            )}
            <label>
              Reason (for the audit)
              <input
                name="moveReason"
                maxLength={256}
                value={reason.value}
                onInput={(e) => (reason.value = e.currentTarget.value)}
              />
            </label>
            <div>
              <button type="submit" disabled={busy.value}>
                {busy.value ? "Checking…" : "Review move"}
              </button>{" "}
              <button
                type="button"
                class="link"
                onClick={onClose}
              >
                Close
              </button>
            </div>
          </form>
        )
        : (
          <div class="stack review" data-testid="move-review">
            <p tabIndex={-1} ref={reviewHeading}>
              Move from <strong>{inZone(r.from)}</strong> to{" "}
              <strong>{inZone(r.to)}</strong>.
            </p>
            {r.notice
              ? (
                <>
                  <p data-testid="move-notice">
                    {r.notice.atOnce
                      ? "The notice window for the new time is already open: owners not yet warned get their notice at once."
                      : `Owners not yet warned get their notice at ${
                        inZone(r.notice.at)
                      }, ${r.notice.leadHours} h ahead.`}
                  </p>
                  {r.reminders.length > 0 && (
                    <p data-testid="move-reminders">
                      Reminders by email and push go out at{" "}
                      {r.reminders.map((m) =>
                        `${inZone(m.at)} (${m.leadHours} h ahead)`
                      ).join(" and ")}.
                    </p>
                  )}
                  <p>
                    Owners already warned are told it moved, on the channels
                    that warned them.
                  </p>
                  {r.sample && (r.sample.email || r.sample.push) && (
                    <details open class="move-message">
                      <summary>
                        What they get (here {r.sample.owner}, for{" "}
                        {r.sample.instance})
                      </summary>
                      {r.sample.email && (
                        <>
                          <p class="small">
                            Email · Subject:{" "}
                            <strong data-testid="move-subject">
                              {r.sample.email.subject}
                            </strong>
                          </p>
                          <pre
                            class="email-text"
                            data-testid="move-email-text"
                          >{r.sample.email.text}</pre>
                        </>
                      )}
                      {r.sample.push && (
                        <div class="phone-push" data-testid="move-push">
                          <strong>{r.sample.push.title}</strong>
                          <p>{r.sample.push.body}</p>
                        </div>
                      )}
                    </details>
                  )}
                </>
              )
              : <p>Owners are not told (the action sends no notices).</p>}
            <div>
              <button
                type="button"
                onClick={confirmMove}
                disabled={busy.value}
              >
                {busy.value ? "Moving…" : "Move action"}
              </button>{" "}
              <button
                type="button"
                class="link"
                onClick={() => (review.value = null)}
              >
                Back
              </button>
            </div>
          </div>
        )}
      {problems.value.length > 0 && (
        <div class="error small" role="alert" data-testid="move-problems">
          {problems.value.length === 1 ? <p>{problems.value[0]}</p> : (
            <ul>
              {problems.value.map((m) => <li key={m}>{m}</li>)}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
