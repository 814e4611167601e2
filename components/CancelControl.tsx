/**
 * "Cancel action" / "Cancel for this instance", asking for an optional
 * reason. Without JavaScript it is a disclosure with a form posted to the
 * page; in an island it becomes a button opening a dialog that calls the
 * admin API and tells the island to refresh.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { Dialog } from "./Dialog.tsx";
import { CsrfField } from "./CsrfField.tsx";

export function CancelControl(
  { id, label, question, apiUrl, pageUrl, targetId, csrfToken, onDone }: {
    /** Unique on the page, for the dialog's ids. */
    id: string;
    /** "Cancel action", "Cancel for this instance" */
    label: string;
    /** What the admin confirms, in a sentence. */
    question: string;
    apiUrl: string;
    /** The page the no-JavaScript form posts to. */
    pageUrl: string;
    targetId?: string;
    csrfToken: string | null;
    onDone?: (message: string) => void;
  },
) {
  const enhanced = useSignal(false);
  const open = useSignal(false);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  useEffect(() => {
    enhanced.value = true;
  }, []);

  const reasonField = (
    <label>
      Reason (optional, kept with the action)
      <textarea name="reason" maxLength={256} rows={2} />
    </label>
  );

  if (!enhanced.value) {
    return (
      <details class="cancel-details">
        <summary class="danger-text">{label}</summary>
        <form method="post" action={pageUrl} class="stack">
          <CsrfField token={csrfToken} />
          <input
            type="hidden"
            name="intent"
            value={targetId ? "cancel-target" : "cancel"}
          />
          {targetId && <input type="hidden" name="targetId" value={targetId} />}
          <p>{question}</p>
          {reasonField}
          <div>
            <button type="submit" class="danger">{label}</button>
          </div>
        </form>
      </details>
    );
  }

  async function submit(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const reason = String(new FormData(form).get("reason") ?? "").trim();
    busy.value = true;
    error.value = null;
    try {
      const res = await fetch(apiUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: reason || null }),
      });
      if (!res.ok) {
        const json = await res.json().catch(() => ({}));
        throw new Error(json.error ?? `the server answered ${res.status}`);
      }
      open.value = false;
      onDone?.(targetId ? "Cancelled for this instance." : "Action cancelled.");
    } catch (err) {
      error.value = `Could not cancel: ${(err as Error).message}`;
    } finally {
      busy.value = false;
    }
  }

  return (
    <>
      <button
        type="button"
        class="danger"
        onClick={() => {
          error.value = null;
          open.value = true;
        }}
      >
        {label}
      </button>
      <Dialog
        id={`cancel-${id}`}
        title={label}
        open={open.value}
        onClose={() => open.value = false}
      >
        <form class="stack" onSubmit={submit}>
          <p>{question}</p>
          {reasonField}
          {error.value && (
            <p class="flash flash-error" role="alert">{error.value}</p>
          )}
          <div class="button-row">
            <button type="submit" class="danger" disabled={busy.value}>
              {busy.value ? "Cancelling…" : label}
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => open.value = false}
            >
              Keep it
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
