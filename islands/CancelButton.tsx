/** Cancels a whole action or one target after a confirmation, then reloads the page. */
import { useSignal } from "@preact/signals";

export default function CancelButton(
  { url, label, confirmText }: {
    url: string;
    label: string;
    confirmText: string;
  },
) {
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  async function cancel() {
    if (!confirm(confirmText)) return;
    busy.value = true;
    error.value = null;
    try {
      const res = await fetch(url, { method: "POST" });
      if (!res.ok) {
        const json = await res.json().catch(() => ({}));
        throw new Error(json.error ?? `status ${res.status}`);
      }
      location.reload();
    } catch (err) {
      error.value = (err as Error).message;
      busy.value = false;
    }
  }
  return (
    <span>
      <button
        type="button"
        class="danger"
        onClick={cancel}
        disabled={busy.value}
      >
        {busy.value ? "Cancelling…" : label}
      </button>
      {error.value && (
        <span class="error small" role="alert">{error.value}</span>
      )}
    </span>
  );
}
