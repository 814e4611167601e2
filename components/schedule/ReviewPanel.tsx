/**
 * The review of a schedule before it is committed: how many instances and
 * owners, who is left out and why (with "skip those" for instances another
 * action holds), when the notices go out, warnings, and the email, push and
 * banner exactly as the chosen owner will see them. Its buttons belong to the
 * schedule form around it.
 */
import type { SchedulePreview } from "@/lib/preview/preview_model.ts";
import type { Channel } from "@/lib/types.ts";
import { formatDateTime, formatRelative, formatUtc } from "@/lib/format.ts";
import { FIELD, type FormError } from "@/lib/views/form_model.ts";
import { Banner } from "../Banner.tsx";
import { WindowPlanReview } from "./WindowPlanReview.tsx";

const CHANNEL_WORDS: Record<Channel, string> = {
  email: "email",
  webapp: "banner",
  mobile_push: "push",
};

function list(words: string[]): string {
  return words.length > 1
    ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`
    : words[0] ?? "";
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export interface ReviewPanelProps {
  preview: SchedulePreview | null;
  /** The preview is being fetched, or the form changed since it was made. */
  stale?: boolean;
  /** The dialog folds the messages away. */
  compact?: boolean;
  viewerZone: string | null;
  now: number;
  testResult?: string | null;
  busy?: boolean;
  headingRef?: preact.Ref<HTMLHeadingElement>;
  /** How many answers the review has had: moves on each refresh (tests wait on it). */
  version?: number;
  /** What stops the schedule, in the form's words (shown where "Schedule" would be). */
  problems?: FormError[];
  /** The form has a problem and the review is of an older form: it is hidden, the problems listed. */
  outOfDate?: boolean;
  /** Said beside "Schedule" when pressing it found the review changed. */
  scheduleNote?: string | null;
}

export function ReviewPanel(p: ReviewPanelProps) {
  const r = p.preview;
  return (
    <section
      class={`review${p.stale ? " review-stale" : ""}`}
      id="review"
      aria-labelledby="review-title"
      aria-busy={p.stale ? "true" : undefined}
      data-testid="review"
      data-version={p.version ?? 0}
    >
      <h2 id="review-title" tabIndex={-1} ref={p.headingRef}>
        Review{p.stale
          ? <span class="muted small">updating…</span>
          : p.outOfDate
          ? <span class="muted small">out of date</span>
          : null}
      </h2>
      {r && p.outOfDate
        ? (
          <div data-testid="review-out-of-date">
            <p>
              <strong>This review is out of date:</strong>{" "}
              it shows the form as it was before. Fix{" "}
              {(p.problems ?? []).length === 1 ? "this" : "these"}{" "}
              and it comes back:
            </p>
            <ProblemList problems={p.problems ?? []} />
          </div>
        )
        : !r
        ? (
          <p class="muted">
            Who is affected, who is left out, and the email, push and banner
            they will get show here once the form is filled in.
          </p>
        )
        : <ReviewBody {...p} preview={r} />}
    </section>
  );
}

function ReviewBody(p: ReviewPanelProps & { preview: SchedulePreview }) {
  const r = p.preview;
  const tz = p.viewerZone;
  const when = (iso: string) => (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatDateTime(iso, tz)} ({formatRelative(iso, p.now)})
    </time>
  );
  const what = r.actionType === "version_change"
    ? `Change ${plural(r.affected.instances, "instance")} of ${
      plural(r.affected.owners, "owner")
    } to ${
      r.targetOpenclawVersion
        ? `OpenClaw ${r.targetOpenclawVersion}`
        : `image tag ${r.targetImageTag}`
    }`
    : `Restart ${plural(r.affected.instances, "instance")} of ${
      plural(r.affected.owners, "owner")
    }`;
  const lo = r.leftOut;
  const leftOutCount = lo.destroyed.count + lo.pinned.count +
    lo.alreadyOnTag.count + lo.pending.count;
  const names = (items: { name: string }[], count: number) =>
    items.map((i) => i.name).join(", ") +
    (count > items.length ? ` and ${count - items.length} more` : "");
  const messages = r.sample && <Messages preview={r} now={p.now} />;
  return (
    <>
      <p class="review-headline" data-testid="review-headline">
        {r.affected.instances === 0
          ? (
            <strong>
              Nothing left to change: every chosen instance is left out.
            </strong>
          )
          : (
            <>
              <strong>{what}</strong>
              {r.scheduledAt && (
                <>{" "}{r.windows ? "from" : "at"} {when(r.scheduledAt)}</>
              )}.
            </>
          )}
      </p>
      {r.windows && r.affected.instances > 0 && (
        <WindowPlanReview windows={r.windows} zone={tz ?? "UTC"} />
      )}
      {r.affected.instances > 0 && (
        <p data-testid="review-notices">
          {r.notice && r.applyNow
            ? (
              <>
                Owners are told <strong>now</strong>, as it is scheduled, by
                {" "}
                {list(r.notice.channels.map((c) => CHANNEL_WORDS[c]))}.
              </>
            )
            : r.notice
            ? r.notice.atOnce
              ? (
                <>
                  {capital(
                    list(r.notice.channels.map((c) => CHANNEL_WORDS[c])),
                  )} go out <strong>at once</strong>{" "}
                  (with the next notice sweep, within a minute).
                </>
              )
              : (
                <>
                  {capital(
                    list(r.notice.channels.map((c) => CHANNEL_WORDS[c])),
                  )} go out at {when(r.notice.at)}, {r.notice.leadHours}{" "}
                  h ahead.
                </>
              )
            : "Owners are not told ahead."}
        </p>
      )}
      {r.notice && r.notice.reminders.length > 0 && (
        <p data-testid="review-reminders">
          Reminders by email and push go out at{" "}
          {r.notice.reminders.map((m, i) => (
            <>
              {i > 0 && " and "}
              {when(m.at)} ({m.leadHours} h ahead)
            </>
          ))}.
        </p>
      )}
      {
        // Owners' windows give times of their own, shown above: they are not waves.
        r.affected.instances > 0 && r.stages.length > 1 && !r.windows && (
          <Waves preview={r} when={when} />
        )
      }
      {r.doneChannels.length > 0 && (
        <p data-testid="review-done">
          After the change, owners are told how it went by{" "}
          {list(r.doneChannels.map((c) => CHANNEL_WORDS[c]))}.
        </p>
      )}

      {r.warnings.length > 0 && (
        <ul class="warnings" data-testid="review-warnings">
          {r.warnings.map((w) => (
            <li key={w.code} data-code={w.code}>{w.message}</li>
          ))}
        </ul>
      )}

      {leftOutCount > 0 && (
        <div class="left-out" data-testid="left-out">
          <h3>
            Left out: {plural(leftOutCount, "instance")} of {r.requested}
          </h3>
          <ul>
            {lo.destroyed.count > 0 && (
              <li>
                {lo.destroyed.count} destroyed:{" "}
                {names(lo.destroyed.items, lo.destroyed.count)}
              </li>
            )}
            {lo.alreadyOnTag.count > 0 && (
              <li>
                {lo.alreadyOnTag.count} already on image tag {r.targetImageTag}:
                {" "}
                {names(lo.alreadyOnTag.items, lo.alreadyOnTag.count)}
              </li>
            )}
            {lo.pinned.count > 0 && (
              <li>
                {lo.pinned.count} pinned to another tag:{" "}
                {names(lo.pinned.items, lo.pinned.count)}{" "}
                <span class="muted small">
                  (tick “Also change instances pinned” to include them)
                </span>
              </li>
            )}
            {lo.pending.count > 0 && (
              <li
                id={FIELD.pending}
                tabIndex={-1}
                class={r.skipPending ? "" : "needs-choice"}
              >
                {lo.pending.count} already{" "}
                {lo.pending.count === 1 ? "has" : "have"} a pending action
                {r.skipPending ? " and will be skipped" : ""}:
                <ul class="plain">
                  {lo.pending.items.map((i) => (
                    <li>
                      {i.name} —{" "}
                      <a href={`/admin/actions/${i.actionId}`}>
                        {i.actionLabel}
                        {i.scheduledAt
                          ? ` at ${formatDateTime(i.scheduledAt, tz)}`
                          : ""}
                      </a>
                    </li>
                  ))}
                  {lo.pending.count > lo.pending.items.length && (
                    <li class="muted">
                      and {lo.pending.count - lo.pending.items.length} more
                    </li>
                  )}
                </ul>
                {r.skipPending
                  ? (
                    <button
                      type="submit"
                      name="intent"
                      value="keep-pending"
                      class="link"
                    >
                      Include them again
                    </button>
                  )
                  : (
                    <button
                      type="submit"
                      name="intent"
                      value="skip-pending"
                      class="secondary"
                      data-testid="skip-pending"
                    >
                      Skip {lo.pending.count === 1 ? "it" : "those"} and go on
                    </button>
                  )}
              </li>
            )}
          </ul>
        </div>
      )}

      {r.sample && (
        <div class="sample">
          <div class="sample-head">
            <label for="f-sample-owner">
              {r.notice ? "What they read, as" : "Owner"}
            </label>
            <select name="sampleOwner" id="f-sample-owner">
              {r.owners.map((o) => (
                <option value={o.id} selected={o.id === r.sample!.owner.id}>
                  {o.label}
                  {o.timeZone ? ` — ${o.timeZone}` : " — UTC"}
                </option>
              ))}
            </select>
            <button
              type="submit"
              name="intent"
              value="review"
              class="secondary js-hidden"
            >
              Show
            </button>
          </div>
          {r.notice &&
            (p.compact
              ? (
                <details class="sample-messages">
                  <summary>What they will read</summary>
                  {messages}
                </details>
              )
              : messages)}
        </div>
      )}

      <input type="hidden" name="reviewed" value={r.fingerprint} />
      {!r.ready && (
        <div class="not-ready" data-testid="not-ready">
          <p>
            <strong>Not ready to schedule yet:</strong>
          </p>
          <ProblemList problems={reasonsNotReady(r, p.problems ?? [])} />
        </div>
      )}
      {p.scheduleNote && (
        <p
          id="schedule-note"
          class="flash flash-warn"
          role="alert"
          tabIndex={-1}
          data-testid="schedule-note"
        >
          {p.scheduleNote}
        </p>
      )}
      <div class="button-row review-actions">
        {r.ready && (
          <button
            type="submit"
            name="intent"
            value="schedule"
            data-testid="schedule"
          >
            {r.actionType === "version_change"
              ? "Schedule version change"
              : "Schedule restart"} for{" "}
            {plural(r.affected.instances, "instance")}
          </button>
        )}
        {r.sample && r.notice &&
          (r.sample.email || r.sample.push) && (
          <button
            type="submit"
            name="intent"
            value="test"
            class="secondary"
            disabled={p.busy}
          >
            Send a test to me
          </button>
        )}
      </div>
      <p role="status" class="test-result" data-testid="test-result">
        {p.testResult ?? ""}
      </p>
    </>
  );
}

/** Each wave's size, planned time (here and in UTC) and a sample, and how the times are estimated. */
function Waves(
  { preview: r, when }: {
    preview: SchedulePreview;
    when: (iso: string) => preact.JSX.Element;
  },
) {
  const { expectedCallMs, concurrency, gate } = r.rollout;
  return (
    <div class="review-waves-box" data-testid="review-waves">
      <h3>In {r.stages.length} waves</h3>
      <ol class="review-waves">
        {r.stages.map((s) => (
          <li data-testid="review-wave">
            <strong>
              Wave {s.index + 1}: {plural(s.size, "instance")}
            </strong>{" "}
            at {when(s.scheduledAt)}{" "}
            <span class="muted small">= {formatUtc(s.scheduledAt)}</span>
            {s.soakMinutes > 0 && <>, then a {s.soakMinutes} min soak</>}.
            <div class="muted small" data-testid="review-wave-sample">
              Sample: {s.sample.map((i) => i.name).join(", ")}
              {s.size > s.sample.length
                ? ` and ${s.size - s.sample.length} more`
                : ""}
            </div>
          </li>
        ))}
      </ol>
      <p class="small" data-testid="review-waves-how">
        Later waves' times are estimates: each wave's apply is expected to take
        {" "}
        {expectedCallMs / 1000} s per instance with {concurrency}{" "}
        controller calls at once (in whole minutes, at least one), then it
        soaks. {gate
          ? `A wave starts only once the gate of the one before passed (at most ${gate.maxFailedPercent} % failed and ${gate.maxUnhealthyPercent} % unhealthy), so it may start later than shown.`
          : "Without a gate, each wave starts at its time."}{" "}
        Which instances fall in which wave is drawn when it is scheduled: the
        names are a sample.
      </p>
    </div>
  );
}

/** What stops this review from being scheduled: the form's problems and the held instances' question. */
function reasonsNotReady(r: SchedulePreview, problems: FormError[]): string[] {
  const held = r.problems.filter((i) => i.path === "skipPending")
    .map((i) => i.message);
  const all = [...problems.map((e) => e.message), ...held];
  return all.length
    ? [...new Set(all)]
    : ["Press Review to see what is wrong."];
}

function ProblemList({ problems }: { problems: (FormError | string)[] }) {
  return (
    <ul class="problems">
      {problems.map((e) => (
        <li>
          {typeof e === "string" ? e : <a href={`#${e.field}`}>{e.message}</a>}
        </li>
      ))}
    </ul>
  );
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function Messages(
  { preview: r, now }: {
    preview: SchedulePreview;
    now: number;
  },
) {
  const s = r.sample!;
  const zone = s.owner.timeZone;
  return (
    <div class="messages">
      {s.email && (
        <section class="message" aria-labelledby="preview-email-title">
          <h3 id="preview-email-title">Email</h3>
          <p class="small">
            To <strong>{s.email.to || "no address"}</strong> · Subject:{" "}
            <strong data-testid="preview-subject">{s.email.subject}</strong>
          </p>
          {s.email.frameUrl
            ? (
              <iframe
                class="email-frame"
                title={`The email to ${s.email.to || s.owner.label}`}
                sandbox=""
                src={s.email.frameUrl}
                data-testid="preview-email"
              />
            )
            : null}
          <details open={!s.email.frameUrl}>
            <summary>Plain text</summary>
            <pre
              class="email-text"
              data-testid="preview-email-text"
            >{s.email.text}</pre>
          </details>
        </section>
      )}
      {s.push && (
        <section class="message" aria-labelledby="preview-push-title">
          <h3 id="preview-push-title">Push</h3>
          {s.push.devices === 0
            ? (
              <p class="muted" data-testid="preview-push">
                No device registered: this owner gets no push.
              </p>
            )
            : (
              <div class="phone-push" data-testid="preview-push">
                <div class="muted small">
                  KiloClaw · {plural(s.push.devices, "device")}
                </div>
                <strong>{s.push.title}</strong>
                <p>{s.push.body}</p>
              </div>
            )}
        </section>
      )}
      {s.banner && (
        <section class="message" aria-labelledby="preview-banner-title">
          <h3 id="preview-banner-title">Workspace banner</h3>
          <p class="muted small">
            Shown from when the notices go out, in the owner's own time zone
            {zone ? ` (here ${zone})` : " (here UTC)"}.
          </p>
          <div data-testid="preview-banner">
            <Banner
              name={s.instance.name}
              status={s.banner.status}
              timeZone={s.banner.timeZone}
              now={now}
            />
          </div>
        </section>
      )}
    </div>
  );
}
