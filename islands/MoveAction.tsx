/**
 * Moves an action to another time: pick the time (and lead), review what
 * owners will be told, confirm; then the page reloads with the new time.
 * The action page's live part (`ActionLive`) opens it with its Move button,
 * beside Cancel action, while the action can still move.
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
import { timeHint, zoneLabel } from "@/lib/scheduler/form_model.ts";
import type { Issue } from "@/lib/errors.ts";

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
  useEffect(() => first.current?.focus(), []);
  // The browser's own zone: the time typed is read there, and named.
  const zone = localTimeZone();
  const reviewing = useSignal(false);
  const when = useSignal(toZonedInput(scheduledAt, zone));
  const lead = useSignal(noticeLeadHours);
  const reason = useSignal("");
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const issues = useSignal<Issue[]>([]);

  const picked = fromZonedInput(when.value, zone);
  // The same minute as now: nothing would move.
  const unchanged = picked.ok &&
    Math.floor(picked.ms / 60_000) ===
      Math.floor(Date.parse(scheduledAt) / 60_000);
  const valid = picked.ok && !unchanged;
  const target = new Date(picked.ok ? picked.ms : NaN);
  const noticeAt = valid
    ? new Date(target.getTime() - lead.value * 3_600_000)
    : null;
  const inZone = (d: Date | string) =>
    zone === "UTC"
      ? formatUtc(d)
      : `${formatDateTime(d, zone)} (${formatUtc(d)})`;

  async function confirmMove() {
    busy.value = true;
    error.value = null;
    issues.value = [];
    const body: Record<string, unknown> = {
      scheduledAt: valid ? target.toISOString() : when.value,
      noticeLeadHours: lead.value,
    };
    if (reason.value.trim()) body.reason = reason.value.trim();
    try {
      const res = await fetch(
        `/api/admin/scheduled-actions/${actionId}/reschedule`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        },
      );
      const json = await res.json().catch(() => ({}));
      if (res.ok) {
        location.reload();
        return;
      }
      error.value = json.error ?? `The server answered ${res.status}.`;
      issues.value = Array.isArray(json.issues) ? json.issues : [];
      reviewing.value = false;
    } catch (err) {
      error.value = `Could not reach the server: ${(err as Error).message}`;
    } finally {
      busy.value = false;
    }
  }

  return (
    <div
      class="move-action stack narrow"
      role="dialog"
      aria-label="Move action"
    >
      {!reviewing.value
        ? (
          <form
            class="stack"
            onSubmit={(e) => {
              e.preventDefault();
              reviewing.value = true;
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
                onInput={(e) => (when.value = e.currentTarget.value)}
              />
            </label>
            <p id="move-time-hint" class="hint small" aria-live="polite">
              {unchanged
                ? "That is the action's time now: pick another."
                : timeHint(when.value, zone, Date.now())}
            </p>
            <label>
              Hours of notice
              <input
                type="number"
                name="moveLeadHours"
                min={0}
                max={168}
                value={lead.value}
                onInput={(e) => (lead.value = Number(e.currentTarget.value))}
              />
            </label>
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
              <button type="submit" disabled={!valid}>Review move</button>{" "}
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
          <div class="stack review">
            <p>
              Move from <strong>{inZone(scheduledAt)}</strong> to{" "}
              <strong>{valid ? inZone(target) : when.value}</strong>.
            </p>
            {notify && noticeAt && (
              <p>
                {noticeAt.getTime() <= Date.now()
                  ? "The notice window for the new time is already open: owners not yet warned get their notice at once."
                  : `Owners not yet warned get their notice at ${
                    inZone(noticeAt)
                  }.`}{" "}
                Owners already warned are told it moved, on the channels that
                warned them.
              </p>
            )}
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
                onClick={() => (reviewing.value = false)}
              >
                Back
              </button>
            </div>
          </div>
        )}
      {error.value && (
        <p class="error small" role="alert">
          {error.value}
          {issues.value.map((i) => ` ${i.path}: ${i.message}`).join(";")}
        </p>
      )}
    </div>
  );
}
