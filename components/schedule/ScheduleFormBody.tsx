/**
 * The schedule form with its review, as the schedule page and the instance
 * page's dialog both use it. The server renders it whole (it works without
 * JavaScript: "Review" posts to the page, which renders the review). In an
 * island it also:
 * - shows the time field in the browser's zone (the same instant the server
 *   wrote in its zone), named beside it, with the UTC time and how long until
 *   it, kept current;
 * - refreshes the review while the admin types (the page answers the form's
 *   own fields with JSON); while the form has a problem the last review is
 *   marked out of date and lists what to fix;
 * - lets "Schedule" through at once when the review is current; otherwise
 *   (a field just left, an answer on its way) it asks for the review first
 *   and schedules if nothing it shows changed, or says the review changed,
 *   beside the button. Leaving a field never swallows the click after it;
 * - does Review, "skip those" and "send a test to me" in place, moving focus
 *   to the error summary or to the review;
 * - keeps the last channel from being unticked.
 * "Schedule" always posts the form itself, so what is shown is what is sent.
 */
import { useSignal } from "@preact/signals";
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import {
  FIELD,
  type FormError,
  type InstanceChoice,
  type MatchSummary,
  REVIEW_CHANGED,
  type ScheduleFormValues,
  timeHint,
  zoneLabel,
} from "@/lib/views/form_model.ts";
import type { SchedulePreview } from "@/lib/preview/preview_model.ts";
import { fromZonedInput, localTimeZone, toZonedInput } from "@/lib/format.ts";
import { CsrfField } from "../CsrfField.tsx";
import { byField, ErrorSummary } from "./ErrorSummary.tsx";
import { ScheduleFields } from "./ScheduleFields.tsx";
import { ReviewPanel } from "./ReviewPanel.tsx";

export interface ScheduleFormBodyProps {
  /** Where the form posts (and asks for previews): the schedule page. */
  action: string;
  values: ScheduleFormValues;
  errors: FormError[];
  /** The review the server rendered (after "Review" without JavaScript). */
  preview: SchedulePreview | null;
  catalog: { imageTag: string; openclawVersion: string; available: boolean }[];
  chosen: InstanceChoice[];
  match: MatchSummary | null;
  minAheadSeconds: number;
  csrfToken: string | null;
  /** The server's clock when it rendered. */
  now: number;
  /** The admin's stored zone, which the server wrote times in. */
  viewerZone: string | null;
  testResult: string | null;
  /** A word from the server above the form (e.g. the form changed after its review). */
  notice: string | null;
  variant: "page" | "dialog";
  fixedInstance?: InstanceChoice;
  onCancel?: () => void;
}

type Intent =
  | "preview"
  | "review"
  | "skip-pending"
  | "keep-pending"
  | "test"
  | "schedule";

interface Answer {
  errors: FormError[];
  preview: SchedulePreview | null;
  testResult?: string | null;
}

/** The form's fields as they would be posted, to tell whether the review answered exactly these. */
function formKey(form: HTMLFormElement | FormData): string {
  const data = form instanceof FormData ? form : new FormData(form);
  return new URLSearchParams(
    [...data]
      .filter(([k]) => k !== "reviewed" && k !== "intent")
      .map(([k, v]) => [k, typeof v === "string" ? v : v.name])
      // Where a field sits in the form does not change what is sent.
      .sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y)),
  ).toString();
}

export function ScheduleFormBody(p: ScheduleFormBodyProps) {
  const enhanced = useSignal(false);
  const errors = useSignal<FormError[]>(p.errors);
  const preview = useSignal<SchedulePreview | null>(p.preview);
  const stale = useSignal(false);
  const busy = useSignal(false);
  const testResult = useSignal<string | null>(p.testResult);
  const zone = useSignal(p.values.timeZone);
  const now = useSignal(p.now);
  const wall = useSignal(p.values.scheduledAt);
  const viewerZone = useSignal<string | null>(p.viewerZone);
  const skipPending = useSignal(p.values.skipPending);
  const channelNote = useSignal<string | null>(null);
  /** The live review's problems: the form is not whole, so the review is out of date. */
  const liveErrors = useSignal<FormError[]>([]);
  /** Said beside "Schedule" when pressing it found the review changed. */
  const scheduleNote = useSignal<string | null>(null);
  /** The form has a problem and no review of its own: the one shown is of an older form. */
  const outOfDate = useSignal(false);
  const version = useSignal(0);
  const formRef = useRef<HTMLFormElement>(null);
  const timeRef = useRef<HTMLInputElement>(null);
  const zoneRef = useRef<HTMLInputElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);
  const reviewRef = useRef<HTMLHeadingElement>(null);
  const seq = useRef(0);
  const debounce = useRef<ReturnType<typeof setTimeout> | undefined>(
    undefined,
  );
  /** The fields the shown review answered, and whether a newer answer is on its way. */
  const answeredKey = useRef<string | null>(null);
  const waiting = useRef(false);
  /** "Schedule" found the review current: the next submit goes through. */
  const confirmed = useRef(false);

  async function ask(intent: Intent): Promise<Answer | null> {
    const form = formRef.current;
    if (!form) return null;
    const data = new FormData(form);
    if (skipPending.value) data.set("skipPending", "on");
    else data.delete("skipPending");
    const key = formKey(data);
    data.set("intent", intent);
    const mine = ++seq.current;
    try {
      const res = await fetch(p.action, {
        method: "POST",
        body: data,
        headers: { accept: "application/json" },
      });
      const answer = await res.json() as Answer;
      // A later question was asked meanwhile: its answer is the one to show.
      if (mine !== seq.current) return null;
      answeredKey.current = key;
      return answer;
    } catch (err) {
      return mine === seq.current
        ? {
          errors: [{
            field: FIELD.form,
            message: `The server could not be reached (${
              (err as Error).message
            }). Try again.`,
          }],
          preview: null,
        }
        : null;
    }
  }

  async function refreshLive(): Promise<Answer | null> {
    clearTimeout(debounce.current);
    waiting.current = true;
    stale.value = true;
    const answer = await ask("preview");
    if (!answer) return null;
    waiting.current = false;
    liveErrors.value = answer.errors;
    version.value++;
    // Without a new review the last one stays, marked out of date, until the form is whole again.
    outOfDate.value = !answer.preview && preview.value !== null;
    if (answer.preview) preview.value = answer.preview;
    stale.value = false;
    now.value = Date.now();
    return answer;
  }

  function scheduleLive() {
    const form = formRef.current;
    // Leaving a field fires "change" for a value the review already answered: nothing is new.
    if (
      form && !waiting.current && answeredKey.current === formKey(form)
    ) return;
    scheduleNote.value = null;
    waiting.current = true;
    stale.value = true;
    clearTimeout(debounce.current);
    debounce.current = setTimeout(refreshLive, 500);
  }

  /**
   * "Schedule" pressed while the review may lag the form: ask for it now and
   * go on only if what it shows is what was shown.
   */
  async function scheduleWhenCurrent(submitter: HTMLButtonElement | null) {
    const shown = preview.value?.fingerprint ?? null;
    busy.value = true;
    const answer = await refreshLive();
    busy.value = false;
    if (!answer) return;
    const form = formRef.current;
    const fresh = answer.preview;
    if (form && fresh?.ready && fresh.fingerprint === shown) {
      confirmed.current = true;
      const button = submitter?.isConnected
        ? submitter
        : form.querySelector<HTMLButtonElement>('[data-testid="schedule"]');
      form.requestSubmit(button ?? undefined);
      return;
    }
    scheduleNote.value = REVIEW_CHANGED;
    setTimeout(() => document.getElementById("schedule-note")?.focus(), 0);
  }

  function updateHint() {
    const input = timeRef.current;
    if (input) wall.value = input.value;
    now.value = Date.now();
  }

  useEffect(() => {
    enhanced.value = true;
    // The server wrote the time in the zone it knew; show the same instant in this browser's zone.
    const browserZone = localTimeZone();
    const input = timeRef.current;
    const zoneInput = zoneRef.current;
    if (input && zoneInput && zoneInput.value !== browserZone) {
      const at = fromZonedInput(input.value, zoneInput.value);
      if (at.ok) input.value = toZonedInput(at.ms, browserZone);
      zoneInput.value = browserZone;
    }
    zone.value = browserZone;
    viewerZone.value = browserZone;
    updateHint();
    if (p.errors.length) summaryRef.current?.focus();
    refreshLive();
    const tick = setInterval(() => now.value = Date.now(), 30_000);
    return () => {
      clearInterval(tick);
      clearTimeout(debounce.current);
    };
  }, []);

  async function onSubmit(e: JSX.TargetedSubmitEvent<HTMLFormElement>) {
    const submitter = e.submitter as HTMLButtonElement | null;
    const intent = (submitter?.value || "review") as Intent;
    if (intent === "schedule") {
      const form = e.currentTarget;
      const current = confirmed.current ||
        (!waiting.current && answeredKey.current === formKey(form));
      confirmed.current = false;
      // The form itself is posted: what is shown is what is sent.
      if (current) return;
      e.preventDefault();
      scheduleWhenCurrent(submitter);
      return;
    }
    scheduleNote.value = null;
    e.preventDefault();
    // This answer is newer than any live refresh still waiting to start.
    clearTimeout(debounce.current);
    if (intent === "skip-pending") skipPending.value = true;
    if (intent === "keep-pending") skipPending.value = false;
    busy.value = true;
    stale.value = true;
    const answer = await ask(intent === "test" ? "test" : "review");
    busy.value = false;
    if (!answer) return;
    stale.value = false;
    waiting.current = false;
    liveErrors.value = answer.errors;
    version.value++;
    errors.value = answer.errors;
    outOfDate.value = !answer.preview && preview.value !== null;
    if (answer.preview) preview.value = answer.preview;
    now.value = Date.now();
    if (intent === "test") testResult.value = answer.testResult ?? null;
    // Let the new state render, then move focus where the admin should look.
    setTimeout(() => {
      if (answer.errors.length) summaryRef.current?.focus();
      else if (intent === "review") reviewRef.current?.focus();
      else if (intent === "skip-pending" || intent === "keep-pending") {
        document.getElementById("review-title")?.focus();
      }
    }, 0);
  }

  function onChannelChange(e: JSX.TargetedEvent<HTMLInputElement>) {
    const box = e.currentTarget;
    const form = formRef.current;
    if (!box.checked && form) {
      const others = form.querySelectorAll<HTMLInputElement>(
        'input[name="noticeChannels"]:checked',
      );
      if (others.length === 0) {
        box.checked = true;
        channelNote.value =
          "At least one channel is needed. To send nothing, untick “Notify the owners ahead of time”.";
        return;
      }
    }
    channelNote.value = null;
  }

  const fields = byField(errors.value);
  const shownErrors = errors.value;
  return (
    <form
      method="post"
      action={p.action}
      class={`schedule-form schedule-${p.variant}`}
      id={FIELD.form}
      noValidate
      ref={formRef}
      data-enhanced={enhanced.value ? "" : undefined}
      onSubmit={onSubmit}
      onInput={(e) => {
        if ((e.target as HTMLElement).id === FIELD.scheduledAt) updateHint();
        scheduleLive();
      }}
      onChange={(e) => {
        if ((e.target as HTMLElement).id === "f-sample-owner") {
          refreshLive();
          return;
        }
        scheduleLive();
      }}
    >
      <CsrfField token={p.csrfToken} />
      {
        /* Enter in a field presses the form's first button: without
        JavaScript that must be Review, not a waves' preset. */
      }
      {!enhanced.value && (
        <button
          type="submit"
          name="intent"
          value="review"
          class="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
        >
          Review
        </button>
      )}
      {skipPending.value && (
        <input type="hidden" name="skipPending" value="on" />
      )}
      <div class="schedule-layout">
        <div class="schedule-main stack">
          <ErrorSummary
            errors={shownErrors}
            autoFocus={!enhanced.value && shownErrors.length > 0}
            summaryRef={summaryRef}
          />
          {p.notice && <p class="flash flash-warn" role="status">{p.notice}</p>}
          <ScheduleFields
            values={p.values}
            catalog={p.catalog}
            chosen={p.chosen}
            match={p.match}
            fields={fields}
            zoneLabel={zoneLabel(zone.value, now.value)}
            timeHint={timeHint(wall.value, zone.value, now.value)}
            minAheadSeconds={p.minAheadSeconds}
            fixedInstance={p.fixedInstance}
            channelNote={channelNote.value}
            onChannelChange={onChannelChange}
            timeInputRef={timeRef}
            zoneInputRef={zoneRef}
            enhanced={enhanced.value}
            onWavesChange={scheduleLive}
          />
          <div class="button-row">
            <button
              type="submit"
              name="intent"
              value="review"
              class={preview.value?.ready ? "secondary" : ""}
            >
              Review
            </button>
            {p.onCancel && (
              <button type="button" class="secondary" onClick={p.onCancel}>
                Cancel
              </button>
            )}
          </div>
        </div>
        <aside class="schedule-aside">
          <ReviewPanel
            preview={preview.value}
            stale={stale.value}
            compact={p.variant === "dialog"}
            viewerZone={viewerZone.value}
            now={now.value}
            testResult={testResult.value}
            busy={busy.value}
            headingRef={reviewRef}
            version={version.value}
            problems={enhanced.value ? liveErrors.value : shownErrors}
            outOfDate={outOfDate.value}
            scheduleNote={scheduleNote.value}
          />
        </aside>
      </div>
    </form>
  );
}
