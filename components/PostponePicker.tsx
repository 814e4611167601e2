/**
 * The owner's "Change time": the next slots of their maintenance window
 * first, any other time between the earliest and the latest allowed
 * otherwise, sent to `POST /api/instances/:id/postpone`. Refusals are said
 * as the server words them. Used inside islands (the banner, the signed
 * postpone page): no KV, no server-only imports.
 */
import { useState } from "preact/hooks";
import type {
  PostponeAnswer,
  PostponeOffer,
} from "@/lib/owners/postpone_offer_model.ts";
import { formatDateTime, fromZonedInput, toZonedInput } from "@/lib/format.ts";
import { CsrfField } from "./CsrfField.tsx";

export interface PostponePickerProps {
  instanceId: string;
  offer: PostponeOffer;
  /** The zone times are shown and typed in. */
  timeZone: string | null;
  /** Start open (the signed page); the banner starts with the button only. */
  open?: boolean;
  onPostponed?: (answer: PostponeAnswer) => void;
  /** Where the form posts without JavaScript (the signed page), with its CSRF token. */
  action?: string;
  csrfToken?: string | null;
}

const OTHER = "other";

/**
 * What is wrong with the chosen time, in the owner's zone, before asking the
 * server (which words the same rules in UTC).
 */
function timeProblem(
  at: string,
  o: PostponeOffer,
  zone: string | null,
): string | null {
  const ms = Date.parse(at);
  if (ms < Date.parse(o.earliest) || ms > Date.parse(o.until!)) {
    return `The new time must be between ${
      formatDateTime(o.earliest, zone)
    } and ${formatDateTime(o.until!, zone)}.`;
  }
  if (o.scheduledAt && ms <= Date.parse(o.scheduledAt)) {
    return `The new time must be later than ${
      formatDateTime(o.scheduledAt, zone)
    }: a postpone moves the change later.`;
  }
  return null;
}

export function PostponePicker(p: PostponePickerProps) {
  const [open, setOpen] = useState(p.open ?? false);
  const [choice, setChoice] = useState(p.offer.windowStarts[0] ?? OTHER);
  const [other, setOther] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const zone = p.timeZone;
  const o = p.offer;
  const formId = `postpone-${p.instanceId}`;

  if (!o.allowed) {
    return o.reason
      ? (
        // The reason is already a whole sentence ("…: it cannot be postponed").
        <p class="postpone-refused small" data-testid="postpone-refused">
          {o.reason.charAt(0).toUpperCase() + o.reason.slice(1)}.
        </p>
      )
      : null;
  }

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    let at: string | null = choice === OTHER ? null : choice;
    if (choice === OTHER) {
      const parsed = other ? fromZonedInput(other, zone ?? "UTC") : null;
      if (!parsed || !parsed.ok) {
        setError("Enter the new date and time.");
        return;
      }
      at = new Date(parsed.ms).toISOString();
    }
    const problem = timeProblem(at!, o, zone);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      const res = await fetch(
        `/api/instances/${encodeURIComponent(p.instanceId)}/postpone`,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify({ scheduledAt: at }),
        },
      );
      const answer = await res.json().catch(() => ({}));
      if (res.ok) {
        setDone(
          `Postponed to ${formatDateTime(answer.scheduledAt, zone)}. ${
            answer.postponesLeft === 0
              ? "It cannot be postponed again."
              : `You may postpone ${answer.postponesLeft} more time${
                answer.postponesLeft === 1 ? "" : "s"
              }.`
          }`,
        );
        setOpen(false);
        p.onPostponed?.(answer as PostponeAnswer);
      } else {
        setError(
          answer.issues?.[0]?.message
            ? `The new time ${answer.issues[0].message}.`
            : answer.error
            ? `It could not be postponed: ${answer.error}.`
            : `The server answered ${res.status}.`,
        );
      }
    } catch {
      setError("The server could not be reached: try again.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="postpone" data-testid="postpone">
      {done && (
        <p class="postpone-done" role="status" data-testid="postpone-done">
          {done}
        </p>
      )}
      {!open && (
        <button
          type="button"
          class="secondary"
          aria-expanded="false"
          aria-controls={formId}
          onClick={() => {
            // The offer may have changed since the picker was last open.
            setChoice(o.windowStarts[0] ?? OTHER);
            setError(null);
            setOpen(true);
          }}
        >
          Change time
        </button>
      )}
      {open && (
        <form
          id={formId}
          class="postpone-form stack-tight"
          method="post"
          action={p.action}
          onSubmit={submit}
          // The server says what is wrong with a time in the owner's words;
          // the browser's own check would also block a window slot while
          // "Another time" holds a time out of range.
          noValidate
        >
          <CsrfField token={p.csrfToken ?? null} />
          <input type="hidden" name="timeZone" value={zone ?? "UTC"} />
          <fieldset>
            <legend>Postpone to</legend>
            <p class="muted small">
              Any time from {formatDateTime(o.earliest, zone)} to{" "}
              {formatDateTime(o.until!, zone)}; you may postpone {o.left}{" "}
              more time{o.left === 1 ? "" : "s"}.
            </p>
            {o.windowStarts.map((at) => (
              <label class="check">
                <input
                  type="radio"
                  name="postponeTo"
                  value={at}
                  checked={choice === at}
                  onChange={() => setChoice(at)}
                />
                <span>
                  {formatDateTime(at, zone)}{" "}
                  <span class="muted">(your maintenance window)</span>
                </span>
              </label>
            ))}
            <label class="check">
              <input
                type="radio"
                name="postponeTo"
                value={OTHER}
                checked={choice === OTHER}
                onChange={() => setChoice(OTHER)}
              />
              <span>Another time</span>
            </label>
            <div class="postpone-other">
              <input
                type="datetime-local"
                aria-label={`Date and time${zone ? `, in ${zone}` : " (UTC)"}`}
                name="postponeOther"
                value={other}
                min={toZonedInput(o.earliest, zone)}
                max={toZonedInput(o.until!, zone)}
                onInput={(e) => {
                  setOther(e.currentTarget.value);
                  setChoice(OTHER);
                }}
              />
            </div>
          </fieldset>
          {error && (
            <p class="error" role="alert" data-testid="postpone-error">
              {error}
            </p>
          )}
          <div class="row-inline">
            <button type="submit" disabled={busy}>
              {busy ? "Postponing…" : "Postpone"}
            </button>
            {!p.action && (
              <button
                type="button"
                class="secondary"
                onClick={() => setOpen(false)}
              >
                Keep the time
              </button>
            )}
          </div>
        </form>
      )}
    </div>
  );
}
