/**
 * The schedule form with its review, as the schedule page and the instance
 * page's dialog both use it. The server renders it whole (it works without
 * JavaScript: "Review" posts to the page, which renders the review). In an
 * island it also:
 * - shows the time field in the browser's zone (the same instant the server
 *   wrote in its zone), named beside it, with the UTC time and how long until
 *   it, kept current;
 * - refreshes the review while the admin types (the page answers the form's
 *   own fields with JSON), and keeps "Schedule" off until it is current;
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
  type ScheduleFormValues,
  timeHint,
  zoneLabel,
} from "@/lib/scheduler/form_model.ts";
import type { SchedulePreview } from "@/lib/scheduler/preview_model.ts";
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
  const liveProblems = useSignal(0);
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

  async function ask(intent: Intent): Promise<Answer | null> {
    const form = formRef.current;
    if (!form) return null;
    const data = new FormData(form);
    data.set("intent", intent);
    if (skipPending.value) data.set("skipPending", "on");
    else data.delete("skipPending");
    const mine = ++seq.current;
    try {
      const res = await fetch(p.action, {
        method: "POST",
        body: data,
        headers: { accept: "application/json" },
      });
      const answer = await res.json() as Answer;
      // A later question was asked meanwhile: its answer is the one to show.
      return mine === seq.current ? answer : null;
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

  async function refreshLive() {
    stale.value = true;
    const answer = await ask("preview");
    if (!answer) return;
    liveProblems.value = answer.errors.length;
    version.value++;
    // Without a new review the last one stays, greyed out, until the form is whole again.
    if (answer.preview) preview.value = answer.preview;
    stale.value = !answer.preview && preview.value !== null;
    now.value = Date.now();
  }

  function scheduleLive() {
    stale.value = true;
    clearTimeout(debounce.current);
    debounce.current = setTimeout(refreshLive, 500);
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
      if (stale.value) e.preventDefault();
      return; // the form itself is posted: what is shown is what is sent
    }
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
    liveProblems.value = 0;
    version.value++;
    errors.value = answer.errors;
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
            {liveProblems.value > 0 && !shownErrors.length && (
              <span class="muted small">
                {liveProblems.value === 1
                  ? "One thing is missing or wrong"
                  : `${liveProblems.value} things are missing or wrong`}{" "}
                before the review: press Review to see what.
              </span>
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
          />
        </aside>
      </div>
    </form>
  );
}
