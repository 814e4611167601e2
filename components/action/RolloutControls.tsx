/**
 * What an admin can do with a paused rollout: Resume (at the earliest time
 * that still gives owners their notice, or a time they choose), Abort (the
 * instances not yet changed are left as they are) and, for a version change,
 * Roll back (the instances already changed go back to their earlier
 * version). Each asks for an optional reason and a confirmation in a dialog,
 * then calls the admin API as the page's cancel does. Without JavaScript
 * each is a disclosure with a form posted to the page.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { CsrfField } from "../CsrfField.tsx";
import type { ComponentChildren } from "preact";
import { Dialog } from "../Dialog.tsx";
import { fromZonedInput, localTimeZone } from "@/lib/format.ts";

type Control = "resume" | "abort" | "rollback";

interface Answer {
  ok: boolean;
  status: number;
  json: Record<string, unknown>;
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, json };
}

/** The dialog's fields as the admin reads them, for the API's issue paths. */
const FIELD_WORDS: Record<string, string> = {
  scheduledAt: "The resume time",
  reason: "The reason",
};

/** The API's `{error, issues}` in sentences, naming fields as the dialog does. */
function problem(a: Answer): string {
  const issues = (a.json.issues as { path: string; message: string }[]) ?? [];
  const error = String(a.json.error ?? `the server answered ${a.status}`);
  if (!issues.length) return error;
  return issues.map((i) => {
    const label = FIELD_WORDS[i.path];
    // The API says "is in the past", "must be …": the field's name goes first.
    const said = !label
      ? i.message
      : /^(must|is|are)\b/.test(i.message)
      ? `${label} ${i.message}`
      : `${label}: ${i.message}`;
    return `${said.charAt(0).toUpperCase()}${said.slice(1)}.`;
  }).join(" ");
}

/** The controls as forms posted to the page, for a browser without JavaScript. */
function PostedControls(
  { pageUrl, csrfToken, versionChange, timeZone }: {
    pageUrl: string;
    csrfToken: string | null;
    versionChange: boolean;
    timeZone: string;
  },
) {
  const form = (
    intent: Control,
    label: string,
    question: string,
    extra?: ComponentChildren,
  ) => (
    <details class="cancel-details">
      <summary class={intent === "resume" ? "" : "danger-text"}>
        {label}
      </summary>
      <form method="post" action={pageUrl} class="stack">
        <CsrfField token={csrfToken} />
        <input type="hidden" name="intent" value={intent} />
        <p>{question}</p>
        {extra}
        <label>
          Reason (optional, kept with the action)
          <textarea name="reason" maxLength={256} rows={2} />
        </label>
        <div>
          <button type="submit" class={intent === "resume" ? "" : "danger"}>
            {label}
          </button>
        </div>
      </form>
    </details>
  );
  return (
    <div class="head-actions rollout-controls">
      {form(
        "resume",
        "Resume",
        "The next wave and the ones after it get new times; owners already told a time are told the new one.",
        <>
          <label>
            Next wave at (in {timeZone}; empty: the earliest allowed)
            <input type="datetime-local" name="scheduledAt" />
          </label>
          <input type="hidden" name="timeZone" value={timeZone} />
        </>,
      )}
      {form(
        "abort",
        "Abort",
        "Every instance not yet changed is left as it is; owners who were warned are told it is called off.",
      )}
      {versionChange && form(
        "rollback",
        "Roll back",
        "Schedules a version change back to each changed instance's earlier version, at the earliest allowed time.",
      )}
    </div>
  );
}

export function RolloutControls(
  { actionId, versionChange, onDone, pageUrl, csrfToken, timeZone }: {
    actionId: string;
    /** Only a version change can be rolled back. */
    versionChange: boolean;
    onDone: (message: string, goTo?: string) => void;
    /** Where the forms post without JavaScript. */
    pageUrl: string;
    csrfToken: string | null;
    /** The zone a time typed without JavaScript is read in. */
    timeZone: string;
  },
) {
  const enhanced = useSignal(false);
  useEffect(() => {
    enhanced.value = true;
  }, []);
  const open = useSignal<Control | null>(null);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const resumeAt = useSignal<"earliest" | "at">("earliest");
  const base = `/api/admin/scheduled-actions/${encodeURIComponent(actionId)}`;
  if (!enhanced.value) {
    return (
      <PostedControls
        pageUrl={pageUrl}
        csrfToken={csrfToken}
        versionChange={versionChange}
        timeZone={timeZone}
      />
    );
  }

  async function submit(e: Event, control: Control) {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const reason = String(data.get("reason") ?? "").trim() || null;
    const body: Record<string, unknown> = { reason };
    if (control === "resume" && resumeAt.value === "at") {
      const wall = String(data.get("scheduledAt") ?? "");
      const at = fromZonedInput(wall, localTimeZone());
      if (!at.ok) {
        error.value = wall
          ? "That time does not exist here (the clocks go forward then): choose another."
          : "Enter the date and time to resume at, or choose the earliest allowed.";
        return;
      }
      body.scheduledAt = new Date(at.ms).toISOString();
    }
    busy.value = true;
    error.value = null;
    try {
      const answer = await post(`${base}/${control}`, body);
      if (!answer.ok) {
        error.value = problem(answer);
        return;
      }
      open.value = null;
      if (control === "rollback") {
        const id = String(answer.json.id ?? "");
        onDone(
          "Rollback scheduled.",
          id ? `/admin/actions/${encodeURIComponent(id)}` : undefined,
        );
      } else {
        onDone(
          control === "resume" ? "Rollout resumed." : "Rollout aborted.",
        );
      }
    } catch (err) {
      error.value = `The server could not be reached (${
        (err as Error).message
      }). Try again.`;
    } finally {
      busy.value = false;
    }
  }

  const dialog = (
    control: Control,
    title: string,
    question: ComponentChildren,
    confirm: string,
    danger: boolean,
    extra?: ComponentChildren,
  ) => (
    <Dialog
      id={`rollout-${control}`}
      title={title}
      open={open.value === control}
      onClose={() => open.value = null}
    >
      <form class="stack" onSubmit={(e) => submit(e, control)}>
        <p>{question}</p>
        {extra}
        <label>
          Reason (optional, kept with the action)
          <textarea name="reason" maxLength={256} rows={2} />
        </label>
        {error.value && (
          <p class="flash flash-error" role="alert">{error.value}</p>
        )}
        <div class="button-row">
          <button
            type="submit"
            class={danger ? "danger" : ""}
            disabled={busy.value}
            data-testid={`confirm-${control}`}
          >
            {busy.value ? "Working…" : confirm}
          </button>
          <button
            type="button"
            class="secondary"
            onClick={() => open.value = null}
          >
            Not now
          </button>
        </div>
      </form>
    </Dialog>
  );

  const opener = (control: Control, label: string, danger: boolean) => (
    <button
      type="button"
      class={danger ? "danger" : ""}
      data-testid={`open-${control}`}
      onClick={() => {
        error.value = null;
        // Each time afresh: the earliest allowed unless a time is chosen now.
        resumeAt.value = "earliest";
        open.value = control;
      }}
    >
      {label}
    </button>
  );

  return (
    <div class="head-actions rollout-controls">
      {opener("resume", "Resume", false)}
      {opener("abort", "Abort", true)}
      {versionChange && opener("rollback", "Roll back", true)}
      {dialog(
        "resume",
        "Resume the rollout",
        "The next wave and the ones after it get new times; owners already told a time are told the new one.",
        "Resume",
        false,
        <fieldset class="plain-fieldset">
          <legend>When the next wave starts</legend>
          <label class="check">
            <input
              type="radio"
              name="resumeAt"
              value="earliest"
              checked={resumeAt.value === "earliest"}
              onChange={() => resumeAt.value = "earliest"}
            />
            <span>
              The earliest allowed (its owners still get their notice lead)
            </span>
          </label>
          <label class="check">
            <input
              type="radio"
              name="resumeAt"
              value="at"
              checked={resumeAt.value === "at"}
              onChange={() => resumeAt.value = "at"}
            />
            <span>At a time I choose</span>
          </label>
          {resumeAt.value === "at" && (
            <label>
              Date and time (in {localTimeZone()})
              <input
                type="datetime-local"
                name="scheduledAt"
                data-testid="resume-at"
              />
            </label>
          )}
        </fieldset>,
      )}
      {dialog(
        "abort",
        "Abort the rollout",
        "Every instance not yet changed is left as it is; owners who were warned are told it is called off. The waves already applied stay applied.",
        "Abort",
        true,
      )}
      {versionChange && dialog(
        "rollback",
        "Roll back the rollout",
        "Schedules a version change back to each changed instance's earlier version, for the waves already applied, at the earliest allowed time. Owners are told why.",
        "Roll back",
        true,
      )}
    </div>
  );
}
