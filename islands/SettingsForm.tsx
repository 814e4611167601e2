/**
 * An owner's settings form: time zone (prefilled from the browser when none
 * is stored), maintenance window, warning channels and push quiet hours. It
 * saves with one `PUT` of all four and shows what was saved, or each
 * problem beside its field.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { localTimeZone } from "@/lib/format.ts";
import { WEEKDAYS } from "@/lib/types.ts";
import type { OwnerSettings, Weekday } from "@/lib/types.ts";
import { CsrfField } from "@/components/CsrfField.tsx";

interface Props {
  /** `/api/me/settings`, or an admin's `/api/admin/users/:id/settings`. */
  endpoint: string;
  /** Where the form posts without JavaScript: the page itself. */
  action: string;
  csrfToken: string | null;
  /** The problems of a form the server refused (posted without JavaScript). */
  problems?: { path: string; message: string }[];
  /** The page was reached right after a save. */
  saved?: boolean;
  initial: OwnerSettings;
  zones: string[];
  /** Whose settings these are, when an admin edits someone else's. */
  forWhom?: string;
}

const DAY_LABELS: Record<Weekday, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

/** Where each API field's problem is shown, and how the page names it. */
const FIELDS: Record<string, { id: string; name: string }> = {
  timeZone: { id: "settings-zone", name: "Time zone" },
  maintenanceWindow: { id: "settings-window-any", name: "Maintenance window" },
  "maintenanceWindow.days": { id: "settings-day-mon", name: "Days" },
  "maintenanceWindow.startHour": { id: "settings-start", name: "Starts at" },
  "maintenanceWindow.lengthHours": { id: "settings-length", name: "Length" },
  channels: { id: "settings-email", name: "Warnings" },
  quietHours: { id: "settings-quiet", name: "Quiet hours" },
  "quietHours.start": { id: "settings-quiet-start", name: "Quiet from" },
  "quietHours.end": { id: "settings-quiet-end", name: "Quiet until" },
};

interface Problem {
  field: string;
  message: string;
}

/** The field an API issue's path belongs to ("maintenanceWindow.days.1" → days). */
function fieldOf(path: string): string {
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n--) {
    const p = parts.slice(0, n).join(".");
    if (FIELDS[p]) return p;
  }
  return "timeZone";
}

const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;

export default function SettingsForm(props: Props) {
  const zone = useSignal(props.initial.timeZone ?? "");
  const zoneGuessed = useSignal(false);
  const hasWindow = useSignal(props.initial.maintenanceWindow !== null);
  const days = useSignal<Weekday[]>(
    props.initial.maintenanceWindow?.days ?? [],
  );
  const startHour = useSignal(props.initial.maintenanceWindow?.startHour ?? 2);
  const lengthHours = useSignal(
    props.initial.maintenanceWindow?.lengthHours ?? 2,
  );
  const email = useSignal(props.initial.channels.email);
  const push = useSignal(props.initial.channels.mobile_push);
  const hasQuiet = useSignal(props.initial.quietHours !== null);
  const quietStart = useSignal(props.initial.quietHours?.start ?? "22:00");
  const quietEnd = useSignal(props.initial.quietHours?.end ?? "07:00");
  const problems = useSignal<Problem[]>(
    (props.problems ?? []).map((i) => ({
      field: fieldOf(i.path),
      message: i.message,
    })),
  );
  const saving = useSignal(false);
  const saved = useSignal<string | null>(
    props.saved ? "Settings saved." : null,
  );
  const failure = useSignal<string | null>(null);
  const enhanced = useSignal(false);

  useEffect(() => {
    enhanced.value = true;
    // An admin's browser says nothing about the owner's zone.
    if (!zone.value && !props.forWhom) {
      zone.value = localTimeZone();
      zoneGuessed.value = true;
    }
  }, []);

  const zones = props.zones.includes(zone.value) || !zone.value
    ? props.zones
    : [zone.value, ...props.zones];

  function body(): OwnerSettings {
    return {
      timeZone: zone.value || null,
      maintenanceWindow: hasWindow.value
        ? {
          days: WEEKDAYS.filter((d) => days.value.includes(d)),
          startHour: startHour.value,
          lengthHours: lengthHours.value,
        }
        : null,
      channels: { email: email.value, mobile_push: push.value },
      quietHours: hasQuiet.value
        ? { start: quietStart.value, end: quietEnd.value }
        : null,
    };
  }

  /** What the browser can tell before asking the server. */
  function localProblems(b: OwnerSettings): Problem[] {
    const out: Problem[] = [];
    if (b.maintenanceWindow && !b.maintenanceWindow.days.length) {
      out.push({
        field: "maintenanceWindow.days",
        message: "pick at least one day",
      });
    }
    if (b.quietHours) {
      if (!b.quietHours.start) {
        out.push({ field: "quietHours.start", message: "give a time of day" });
      }
      if (!b.quietHours.end) {
        out.push({ field: "quietHours.end", message: "give a time of day" });
      } else if (b.quietHours.start === b.quietHours.end) {
        out.push({
          field: "quietHours.end",
          message: "start and end must differ",
        });
      }
    }
    return out;
  }

  async function save(e: Event) {
    e.preventDefault();
    saved.value = null;
    failure.value = null;
    const b = body();
    const local = localProblems(b);
    problems.value = local;
    if (local.length) {
      document.getElementById("settings-problems")?.focus();
      return;
    }
    saving.value = true;
    try {
      const res = await fetch(props.endpoint, {
        method: "PUT",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify(b),
      });
      const answer = await res.json().catch(() => ({}));
      if (res.ok) {
        zoneGuessed.value = false;
        saved.value = "Settings saved.";
      } else if (Array.isArray(answer.issues) && answer.issues.length) {
        problems.value = answer.issues.map((
          i: { path: string; message: string },
        ) => ({ field: fieldOf(i.path), message: i.message }));
        document.getElementById("settings-problems")?.focus();
      } else {
        failure.value = answer.error ?? `The server answered ${res.status}.`;
      }
    } catch {
      failure.value =
        "Could not reach the server: check your connection and try again.";
    } finally {
      saving.value = false;
    }
  }

  const problemOf = (field: string) =>
    problems.value.find((p) => p.field === field)?.message;
  const describedBy = (field: string) =>
    problemOf(field) ? `${FIELDS[field].id}-error` : undefined;
  const FieldError = ({ field }: { field: string }) =>
    problemOf(field)
      ? (
        <span class="error" id={`${FIELDS[field].id}-error`}>
          {FIELDS[field].name}: {problemOf(field)}
        </span>
      )
      : null;
  const touch = () => {
    saved.value = null;
  };

  return (
    <form
      method="post"
      action={props.action}
      class="stack settings-form"
      onSubmit={save}
      noValidate
      data-enhanced={enhanced.value ? "" : undefined}
    >
      <CsrfField token={props.csrfToken} />
      {problems.value.length > 0 && (
        <div
          class="error-summary"
          id="settings-problems"
          tabIndex={-1}
          role="alert"
        >
          <h2>Please check {problems.value.length === 1 ? "this" : "these"}</h2>
          <ul>
            {problems.value.map((p) => (
              <li key={`${p.field}:${p.message}`}>
                <a href={`#${FIELDS[p.field].id}`}>
                  {FIELDS[p.field].name}: {p.message}
                </a>
              </li>
            ))}
          </ul>
        </div>
      )}

      <label for="settings-zone">
        Time zone
        <select
          id="settings-zone"
          name="timeZone"
          value={zone.value}
          aria-describedby={describedBy("timeZone") ?? "settings-zone-note"}
          onChange={(e) => {
            zone.value = e.currentTarget.value;
            zoneGuessed.value = false;
            touch();
          }}
        >
          {!zone.value && <option value="">Choose your time zone</option>}
          {zones.map((z) => (
            <option key={z} value={z}>{z.replaceAll("_", " ")}</option>
          ))}
        </select>
        <span class="zone-name" id="settings-zone-note">
          {zoneGuessed.value
            ? "Taken from your browser: save to keep it."
            : "Times in your emails and push notifications are written in this zone."}
        </span>
        <FieldError field="timeZone" />
      </label>

      <fieldset>
        <legend>Maintenance window</legend>
        <p class="muted small">
          When you would rather have your bots restarted or upgraded, in your
          own time zone.
        </p>
        <div class="stack-tight">
          <label class="check" for="settings-window-any">
            <input
              type="radio"
              id="settings-window-any"
              name="window"
              value="any"
              checked={!hasWindow.value}
              onChange={() => {
                hasWindow.value = false;
                touch();
              }}
            />
            Any time
          </label>
          <label class="check" for="settings-window-some">
            <input
              type="radio"
              id="settings-window-some"
              name="window"
              value="some"
              checked={hasWindow.value}
              onChange={() => {
                hasWindow.value = true;
                touch();
              }}
            />
            In a window I choose
          </label>
        </div>
        {(hasWindow.value || !enhanced.value) && (
          <div class="stack">
            <fieldset
              class="plain-fieldset"
              aria-describedby={describedBy("maintenanceWindow.days")}
            >
              <legend>Days</legend>
              <div class="day-picks">
                {WEEKDAYS.map((d) => (
                  <label key={d} class="check" for={`settings-day-${d}`}>
                    <input
                      type="checkbox"
                      id={`settings-day-${d}`}
                      name="days"
                      value={d}
                      checked={days.value.includes(d)}
                      onChange={(e) => {
                        const on = e.currentTarget.checked;
                        days.value = on
                          ? [...days.value, d]
                          : days.value.filter((x) =>
                            x !== d
                          );
                        touch();
                      }}
                    />
                    {DAY_LABELS[d]}
                  </label>
                ))}
              </div>
              <FieldError field="maintenanceWindow.days" />
            </fieldset>
            <div class="row">
              <label for="settings-start">
                Starts at
                <select
                  id="settings-start"
                  name="startHour"
                  value={String(startHour.value)}
                  aria-describedby={describedBy("maintenanceWindow.startHour")}
                  onChange={(e) => {
                    startHour.value = Number(e.currentTarget.value);
                    touch();
                  }}
                >
                  {Array.from(
                    { length: 24 },
                    (_, h) => (
                      <option key={h} value={String(h)}>{hh(h)}</option>
                    ),
                  )}
                </select>
                <FieldError field="maintenanceWindow.startHour" />
              </label>
              <label for="settings-length">
                Length
                <select
                  id="settings-length"
                  name="lengthHours"
                  value={String(lengthHours.value)}
                  aria-describedby={describedBy(
                    "maintenanceWindow.lengthHours",
                  )}
                  onChange={(e) => {
                    lengthHours.value = Number(e.currentTarget.value);
                    touch();
                  }}
                >
                  {Array.from(
                    { length: 8 },
                    (_, i) => (
                      <option key={i} value={String(i + 1)}>
                        {i + 1} hour{i === 0 ? "" : "s"}
                      </option>
                    ),
                  )}
                </select>
                <FieldError field="maintenanceWindow.lengthHours" />
              </label>
            </div>
          </div>
        )}
      </fieldset>

      <fieldset>
        <legend>Warnings</legend>
        <p class="muted small">
          Notices and reminders before a change. Cancellations and changes of
          time always reach you on the channels that warned you, and your
          workspace banner always shows what is coming.
        </p>
        <div class="stack-tight">
          <label class="check" for="settings-email">
            <input
              type="checkbox"
              role="switch"
              id="settings-email"
              name="email"
              checked={email.value}
              onChange={(e) => {
                email.value = e.currentTarget.checked;
                touch();
              }}
            />
            By email
          </label>
          <label class="check" for="settings-push">
            <input
              type="checkbox"
              role="switch"
              id="settings-push"
              name="mobile_push"
              checked={push.value}
              onChange={(e) => {
                push.value = e.currentTarget.checked;
                touch();
              }}
            />
            By push notification
          </label>
        </div>
      </fieldset>

      <fieldset>
        <legend>Push quiet hours</legend>
        <label class="check" for="settings-quiet">
          <input
            type="checkbox"
            id="settings-quiet"
            name="quiet"
            checked={hasQuiet.value}
            onChange={(e) => {
              hasQuiet.value = e.currentTarget.checked;
              touch();
            }}
          />
          Hold push warnings during quiet hours
        </label>
        <p class="muted small">
          A warning due in them goes out when they end, if that is still at
          least an hour before the change; otherwise it goes at once.
        </p>
        {(hasQuiet.value || !enhanced.value) && (
          <div class="row">
            <label for="settings-quiet-start">
              Quiet from
              <input
                type="time"
                id="settings-quiet-start"
                name="quietStart"
                step={60}
                value={quietStart.value}
                aria-describedby={describedBy("quietHours.start")}
                onInput={(e) => {
                  quietStart.value = e.currentTarget.value;
                  touch();
                }}
              />
              <FieldError field="quietHours.start" />
            </label>
            <label for="settings-quiet-end">
              Quiet until
              <input
                type="time"
                id="settings-quiet-end"
                name="quietEnd"
                step={60}
                value={quietEnd.value}
                aria-describedby={describedBy("quietHours.end")}
                onInput={(e) => {
                  quietEnd.value = e.currentTarget.value;
                  touch();
                }}
              />
              <FieldError field="quietHours.end" />
            </label>
          </div>
        )}
      </fieldset>

      <div class="button-row">
        <button type="submit" disabled={saving.value}>
          {saving.value ? "Saving…" : "Save settings"}
        </button>
        <span role="status" class="sr-live">
          {saved.value && <span class="flash-inline-ok">{saved.value}</span>}
        </span>
      </div>
      {failure.value && (
        <p class="flash flash-error" role="alert">{failure.value}</p>
      )}
    </form>
  );
}
