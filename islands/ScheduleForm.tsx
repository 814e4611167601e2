/**
 * Schedule a restart or a version change: targets (ids or every running
 * instance on a tag), time, and who is told what, on which channels.
 * Posts JSON to the admin API and shows its field errors inline.
 */
import { useSignal } from "@preact/signals";
import type { ActionType, CatalogEntry, Channel } from "../lib/types.ts";

interface Props {
  catalog: CatalogEntry[];
  /** Pre-filled instance ids (e.g. from an instance page). */
  instanceIds?: string[];
  defaultActionType?: ActionType;
  minAheadSeconds: number;
}

interface ApiIssue {
  path: string;
  message: string;
}

const CHANNEL_LABELS: Record<Channel, string> = {
  email: "Email",
  webapp: "Workspace banner",
  mobile_push: "Mobile push",
};

function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${
    pad(d.getHours())
  }:${pad(d.getMinutes())}`;
}

export default function ScheduleForm(props: Props) {
  const available = props.catalog.filter((c) => c.available);
  const actionType = useSignal<ActionType>(
    props.defaultActionType ?? "scheduled_restart",
  );
  const targetMode = useSignal<"ids" | "tag">(
    props.instanceIds?.length ? "ids" : "ids",
  );
  const ids = useSignal((props.instanceIds ?? []).join("\n"));
  const selectorTag = useSignal(props.catalog[0]?.imageTag ?? "");
  const imageTag = useSignal(available.at(-1)?.imageTag ?? "");
  const overridePins = useSignal(false);
  const when = useSignal(localInputValue(new Date(Date.now() + 2 * 3600_000)));
  const reason = useSignal("");
  const notify = useSignal(true);
  const lead = useSignal(24);
  const reminders = useSignal("");
  const done = useSignal<Channel[]>([]);
  const subject = useSignal("");
  const body = useSignal("");
  const channels = useSignal<Channel[]>(["email", "webapp", "mobile_push"]);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);
  const issues = useSignal<ApiIssue[]>([]);

  const issueFor = (field: string) =>
    issues.value.filter((i) =>
      i.path === field || i.path.startsWith(`${field}.`)
    );
  const FieldError = ({ field }: { field: string }) => {
    const list = issueFor(field);
    return list.length
      ? (
        <p class="error small" role="alert">
          {list.map((i) => i.message).join("; ")}
        </p>
      )
      : null;
  };

  async function submit(e: Event) {
    e.preventDefault();
    busy.value = true;
    error.value = null;
    issues.value = [];
    const scheduled = new Date(when.value);
    const payload: Record<string, unknown> = {
      actionType: actionType.value,
      scheduledAt: Number.isNaN(scheduled.getTime())
        ? when.value
        : scheduled.toISOString(),
      overridePins: overridePins.value,
      notify: notify.value,
      noticeLeadHours: lead.value,
      reminderLeadHours: reminders.value.split(/[\s,]+/).filter(Boolean)
        .map(Number),
      noticeChannels: channels.value,
      doneChannels: done.value,
    };
    if (targetMode.value === "ids") {
      payload.instanceIds = ids.value.split(/[\s,]+/).map((s) => s.trim())
        .filter(Boolean);
    } else {
      payload.selector = { imageTag: selectorTag.value };
    }
    if (actionType.value === "version_change") {
      payload.imageTag = imageTag.value;
    }
    if (reason.value.trim()) payload.reason = reason.value.trim();
    if (subject.value.trim()) payload.noticeSubject = subject.value.trim();
    if (body.value.trim()) payload.noticeBody = body.value;
    try {
      const res = await fetch("/api/admin/scheduled-actions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
      const json = await res.json().catch(() => ({}));
      if (res.ok && json.id) {
        const left = new URLSearchParams({ scheduled: "1" });
        for (const [why, ids] of Object.entries(json.excluded ?? {})) {
          if (Array.isArray(ids) && ids.length) {
            left.set(why, String(ids.length));
          }
        }
        location.assign(`/admin/actions/${json.id}?${left}`);
        return;
      }
      error.value = json.error ?? `The server answered ${res.status}.`;
      issues.value = Array.isArray(json.issues) ? json.issues : [];
    } catch (err) {
      error.value = `Could not reach the server: ${(err as Error).message}`;
    } finally {
      busy.value = false;
    }
  }

  const toggleChannel = (c: Channel, on: boolean) => {
    channels.value = on
      ? [...new Set([...channels.value, c])]
      : channels.value.filter((x) => x !== c);
  };

  return (
    <form class="stack schedule-form" onSubmit={submit} noValidate>
      <fieldset>
        <legend>Action</legend>
        <div class="row">
          <label class="check">
            <input
              type="radio"
              name="actionType"
              checked={actionType.value === "scheduled_restart"}
              onChange={() => actionType.value = "scheduled_restart"}
            />
            Restart
          </label>
          <label class="check">
            <input
              type="radio"
              name="actionType"
              checked={actionType.value === "version_change"}
              onChange={() => actionType.value = "version_change"}
            />
            Change version
          </label>
        </div>
        {actionType.value === "version_change" && (
          <>
            <label>
              New image tag
              <select
                value={imageTag.value}
                onChange={(e) => imageTag.value = e.currentTarget.value}
              >
                {available.map((c) => (
                  <option value={c.imageTag}>
                    {c.imageTag} (OpenClaw {c.openclawVersion})
                  </option>
                ))}
              </select>
            </label>
            <FieldError field="imageTag" />
            <label class="check">
              <input
                type="checkbox"
                checked={overridePins.value}
                onChange={(e) => overridePins.value = e.currentTarget.checked}
              />
              Also change instances pinned to another tag
            </label>
          </>
        )}
        <FieldError field="actionType" />
      </fieldset>

      <fieldset>
        <legend>Instances</legend>
        <div class="row">
          <label class="check">
            <input
              type="radio"
              name="targetMode"
              checked={targetMode.value === "ids"}
              onChange={() => targetMode.value = "ids"}
            />
            These instance ids
          </label>
          <label class="check">
            <input
              type="radio"
              name="targetMode"
              checked={targetMode.value === "tag"}
              onChange={() => targetMode.value = "tag"}
            />
            Every running instance on a tag
          </label>
        </div>
        {targetMode.value === "ids"
          ? (
            <label>
              Instance ids (one per line or comma separated)
              <textarea
                name="instanceIds"
                value={ids.value}
                onInput={(e) => ids.value = e.currentTarget.value}
              />
            </label>
          )
          : (
            <label>
              Image tag
              <select
                value={selectorTag.value}
                onChange={(e) => selectorTag.value = e.currentTarget.value}
              >
                {props.catalog.map((c) => (
                  <option value={c.imageTag}>{c.imageTag}</option>
                ))}
              </select>
            </label>
          )}
        <FieldError field="instanceIds" />
        <FieldError field="selector" />
      </fieldset>

      <fieldset>
        <legend>When</legend>
        <label>
          Scheduled time (your browser's time zone)
          <input
            type="datetime-local"
            name="scheduledAt"
            value={when.value}
            onInput={(e) => when.value = e.currentTarget.value}
          />
        </label>
        <p class="muted small">
          At least {Math.ceil(props.minAheadSeconds / 60)} minute(s) from now.
        </p>
        <FieldError field="scheduledAt" />
        <label>
          Reason (kept with the action, not sent to users)
          <input
            type="text"
            maxLength={256}
            value={reason.value}
            onInput={(e) => reason.value = e.currentTarget.value}
          />
        </label>
        <FieldError field="reason" />
      </fieldset>

      <fieldset>
        <legend>Tell users</legend>
        <label class="check">
          <input
            type="checkbox"
            checked={notify.value}
            onChange={(e) => notify.value = e.currentTarget.checked}
          />
          Notify the owners ahead of time
        </label>
        {notify.value && (
          <>
            <label>
              Hours of notice (0–168)
              <input
                type="number"
                min={0}
                max={168}
                value={lead.value}
                onInput={(e) => lead.value = Number(e.currentTarget.value)}
              />
            </label>
            <FieldError field="noticeLeadHours" />
            <label>
              Reminders by email and push (hours before, up to two, e.g. "24,
              1")
              <input
                name="reminderLeadHours"
                value={reminders.value}
                onInput={(e) => reminders.value = e.currentTarget.value}
              />
            </label>
            <FieldError field="reminderLeadHours" />
            <fieldset class="row">
              <legend>Tell owners how it went, after the change</legend>
              {(["email", "mobile_push"] as Channel[]).map((c) => (
                <label class="check">
                  <input
                    type="checkbox"
                    name="doneChannels"
                    checked={done.value.includes(c)}
                    onChange={(e) =>
                      done.value = e.currentTarget.checked
                        ? [...new Set([...done.value, c])]
                        : done.value.filter((x) => x !== c)}
                  />
                  {CHANNEL_LABELS[c]}
                </label>
              ))}
            </fieldset>
            <FieldError field="doneChannels" />
            <div class="row">
              {(Object.keys(CHANNEL_LABELS) as Channel[]).map((c) => (
                <label class="check">
                  <input
                    type="checkbox"
                    checked={channels.value.includes(c)}
                    onChange={(e) => toggleChannel(c, e.currentTarget.checked)}
                  />
                  {CHANNEL_LABELS[c]}
                </label>
              ))}
            </div>
            <FieldError field="noticeChannels" />
            <label>
              Email subject (optional, replaces the default)
              <input
                type="text"
                maxLength={120}
                value={subject.value}
                onInput={(e) => subject.value = e.currentTarget.value}
              />
            </label>
            <FieldError field="noticeSubject" />
            <label>
              Message (optional, added to the email)
              <textarea
                maxLength={2000}
                value={body.value}
                onInput={(e) => body.value = e.currentTarget.value}
              />
            </label>
            <FieldError field="noticeBody" />
          </>
        )}
      </fieldset>

      {error.value && (
        <p class="flash flash-error" role="alert">{error.value}</p>
      )}
      <div>
        <button type="submit" disabled={busy.value}>
          {busy.value ? "Scheduling…" : "Schedule"}
        </button>
      </div>
    </form>
  );
}
