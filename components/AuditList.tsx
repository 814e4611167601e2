/** A table of audit entries: when (in the viewer's zone), who and how, what changed in sentences, why. */
import type { AuditEntry, AuditSubject } from "@/lib/types.ts";
import { API_TOKEN_ACTOR_ID } from "@/lib/ids.ts";
import {
  CHANGE_WORDS,
  describeChange,
  type Sentence,
  VIA_WORDS,
} from "@/lib/views/audit_words.ts";
import LocalTime from "@/islands/LocalTime.tsx";

function subjectHref(s: AuditEntry["subject"]): string | null {
  if (s.type === "action") return `/admin/actions/${s.id}`;
  if (s.type === "instance") return `/admin/instances/${s.id}`;
  if (s.type === "catalog") return "/admin/catalog";
  if (s.type === "webhook") return `/admin/webhooks/${s.id}`;
  return null;
}

function who(e: AuditEntry): string {
  if (e.actor.id === API_TOKEN_ACTOR_ID) return "the admin API token";
  return e.actor.email ?? e.actor.id;
}

const SUBJECT_WORDS: Record<AuditSubject["type"], string> = {
  action: "Action",
  instance: "Instance",
  user: "User",
  catalog: "Catalog",
  webhook: "Webhook",
};

function SentenceLine(
  { sentence, timeZone, now }: {
    sentence: Sentence;
    timeZone: string | null;
    now: number;
  },
) {
  return (
    <li>
      {sentence.map((part) =>
        typeof part === "string" ? part : (
          <LocalTime
            at={part.at}
            timeZone={timeZone}
            now={now}
            format="short"
          />
        )
      )}
    </li>
  );
}

export function AuditList(
  { entries, showSubject = true, timeZone, now, names = {} }: {
    entries: AuditEntry[];
    showSubject?: boolean;
    /** Actions' and instances' names by id; an id without one is shown as is. */
    names?: Record<string, string>;
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
            <th>When</th>
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
                  {e.actor.id === API_TOKEN_ACTOR_ID ? who(e) : (
                    <a
                      href={`/admin/audit?admin=${
                        encodeURIComponent(e.actor.email ?? e.actor.id)
                      }`}
                    >
                      {who(e)}
                    </a>
                  )}
                  <div class="muted small">
                    {VIA_WORDS[e.via]}
                  </div>
                </td>
                <td>{CHANGE_WORDS[e.change]}</td>
                {showSubject && (
                  <td>
                    {SUBJECT_WORDS[e.subject.type]} {href
                      ? <a href={href}>{names[e.subject.id] ?? e.subject.id}</a>
                      : <code>{e.subject.id}</code>}
                  </td>
                )}
                <td class="small" data-testid="what-changed">
                  <ul class="plain">
                    {describeChange(e).map((sentence) => (
                      <SentenceLine
                        sentence={sentence}
                        timeZone={timeZone}
                        now={now}
                      />
                    ))}
                  </ul>
                  {e.related.filter((r) => r.type === "instance").map((r) => (
                    <div>
                      Instance{" "}
                      <a href={`/admin/instances/${r.id}`}>
                        {names[r.id] ?? r.id}
                      </a>
                    </div>
                  ))}
                </td>
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
  { changes, subject, timeZone, now, names }: {
    changes: { items: AuditEntry[]; more: boolean };
    names?: Record<string, string>;
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
        names={names}
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
