/** A table of audit entries: when, who and how, what changed, why. */
import type { AuditEntry, AuditSubject } from "@/lib/types.ts";
import { API_TOKEN_ACTOR_ID } from "@/lib/ids.ts";
import LocalTime from "@/islands/LocalTime.tsx";

const CHANGE_WORDS: Record<AuditEntry["change"], string> = {
  "action.schedule": "Scheduled",
  "action.cancel": "Cancelled the action",
  "target.cancel": "Cancelled one instance",
  "action.reschedule": "Moved",
  "catalog.put": "Catalog entry saved",
  "user.put": "User saved",
  "user.delete": "User deleted",
  "instance.put": "Instance saved",
};

function subjectHref(s: AuditEntry["subject"]): string | null {
  if (s.type === "action") return `/admin/actions/${s.id}`;
  if (s.type === "instance") return `/admin/instances/${s.id}`;
  if (s.type === "catalog") return "/admin/catalog";
  return null;
}

function who(e: AuditEntry): string {
  if (e.actor.id === API_TOKEN_ACTOR_ID) return "the admin API token";
  return e.actor.email ?? e.actor.id;
}

function value(v: unknown): string {
  if (v === null || v === undefined) return "none";
  if (Array.isArray(v)) return v.join(", ");
  return String(v);
}

function describe(details: Record<string, unknown>): string {
  return Object.entries(details).map(([k, v]) =>
    Array.isArray(v) && v.length === 2 && k !== "noticeChannels"
      ? `${k}: ${value(v[0])} → ${value(v[1])}`
      : `${k}: ${value(v)}`
  ).join("; ");
}

export function AuditList(
  { entries, showSubject = true, timeZone, now }: {
    entries: AuditEntry[];
    showSubject?: boolean;
    /** The viewer's stored zone (the browser's own replaces it on the page). */
    timeZone: string | null;
    now: number;
  },
) {
  if (entries.length === 0) {
    return <p class="muted">No changes recorded.</p>;
  }
  return (
    // Scrolls sideways on a phone: focusable so the keyboard can scroll it too.
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Changes">
      <table class="audit">
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Who</th>
            <th>Change</th>
            {showSubject && <th>Subject</th>}
            <th>What changed</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => {
            const href = subjectHref(e.subject);
            return (
              <tr data-change={e.change}>
                <td class="nowrap">
                  <LocalTime
                    at={e.at}
                    timeZone={timeZone}
                    now={now}
                    format="short"
                  />
                </td>
                <td>
                  {who(e)}
                  <div class="muted small">
                    {e.via === "session" ? "admin session" : "API token"}
                  </div>
                </td>
                <td>{CHANGE_WORDS[e.change]}</td>
                {showSubject && (
                  <td>
                    {e.subject.type} {href
                      ? <a href={href}>{e.subject.id}</a>
                      : <code>{e.subject.id}</code>}
                  </td>
                )}
                <td class="small">{describe(e.details)}</td>
                <td>{e.reason ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A record's page section "Changes": its latest changes, and a link to every one when there are more. */
export function RecentChangesSection(
  { changes, subject, timeZone, now }: {
    changes: { items: AuditEntry[]; more: boolean };
    subject: AuditSubject;
    timeZone: string | null;
    now: number;
  },
) {
  return (
    <>
      <h2>Changes</h2>
      <AuditList
        entries={changes.items}
        showSubject={false}
        timeZone={timeZone}
        now={now}
      />
      {changes.more && (
        <p>
          <a
            href={`/admin/audit?subjectType=${subject.type}&subjectId=${subject.id}`}
          >
            Every change to this {subject.type} →
          </a>
        </p>
      )}
    </>
  );
}
