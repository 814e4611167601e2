/** Admin: scheduled actions, newest first, found by words, status, type and day; and the notice sweep's last run. */
import type { NoticeTally } from "@/lib/notices/counters.ts";
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import {
  ACTION_STATUSES,
  type ActionList,
  type ActionQuery,
  isFiltered,
  parseActionQuery,
  searchActions,
} from "@/lib/views/action_search.ts";
import { getLastSweepRun } from "@/lib/notices/sweep.ts";
import type { State } from "@/lib/request_state.ts";
import type { SweepRun } from "@/lib/types.ts";
import { StatusPill } from "@/components/StatusPill.tsx";
import { writingLine } from "@/lib/action_words.ts";
import { NoticeSummary } from "@/components/NoticeSummary.tsx";
import SweepButton from "@/islands/SweepButton.tsx";
import LocalTime from "@/islands/LocalTime.tsx";
import SweepLag from "@/islands/SweepLag.tsx";

interface Data {
  list: ActionList;
  query: ActionQuery;
  lastRun: SweepRun | null;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, now } = appContext();
    const query = parseActionQuery(ctx.url.searchParams);
    const [list, lastRun] = await Promise.all([
      searchActions(kv, query),
      getLastSweepRun(kv),
    ]);
    return ctx.render({
      list,
      query,
      lastRun,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

/** The same search, from `cursor` on. */
function nextPageHref(query: ActionQuery, cursor: string): string {
  const p = new URLSearchParams();
  for (const s of query.status ?? []) p.append("status", s);
  if (query.type) p.set("type", query.type);
  if (query.q) p.set("q", query.q);
  if (query.from) p.set("from", query.from);
  if (query.to) p.set("to", query.to);
  p.set("cursor", cursor);
  return `/admin/actions?${p}`;
}

/** "3 waves", "3 waves · stopped at wave 1's gate", "3 waves · aborted after wave 1", "2 times · in owners' windows". */
function wavesNote(
  action: {
    status: string;
    abortedAfterWave?: number | null;
    waves?: unknown[];
    timing?: unknown;
  },
  stages: { index: number; gate?: { verdict: string | null } | null }[],
): string {
  // Owners' windows and postpones give several times, not waves.
  if ((action.waves?.length ?? 0) < 2) {
    return `${stages.length} times${
      action.timing ? " · in owners' windows" : ""
    }`;
  }
  const waves = `${stages.length} waves`;
  if (action.abortedAfterWave != null) {
    return `${waves} · aborted after wave ${action.abortedAfterWave}`;
  }
  const failed = stages.findLast((s) => s.gate?.verdict === "failed");
  return action.status === "paused" && failed
    ? `${waves} · stopped at wave ${failed.index + 1}'s gate`
    : waves;
}

export default function Actions({ data }: PageProps<Data>) {
  const { query, list } = data;
  const filtered = isFiltered(query);
  return (
    <>
      <Head>
        <title>Scheduled actions · Admin · KiloClaw</title>
      </Head>
      <div class="page-head">
        <h1>Scheduled actions</h1>
        <a class="button" href="/admin/actions/new">Schedule an action</a>
      </div>
      <SweepButton lastRun={data.lastRun} />
      <SweepLag />
      <form
        method="get"
        class="filters"
        role="search"
        aria-label="Scheduled actions"
      >
        <label class="grow">
          Search
          <input
            type="search"
            name="q"
            value={query.q ?? ""}
            placeholder="Reason, version, tag, subject or id"
          />
        </label>
        <fieldset class="status-filter">
          <legend>Status</legend>
          {ACTION_STATUSES.map((s) => (
            <label class="check">
              <input
                type="checkbox"
                name="status"
                value={s}
                checked={query.status?.includes(s) ?? false}
              />{" "}
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          Type
          <select name="type">
            <option value="">Any</option>
            <option
              value="scheduled_restart"
              selected={query.type === "scheduled_restart"}
            >
              Restart
            </option>
            <option
              value="version_change"
              selected={query.type === "version_change"}
            >
              Version change
            </option>
          </select>
        </label>
        <fieldset class="status-filter">
          <legend>Scheduled between (UTC days)</legend>
          <label>
            From
            <input type="date" name="from" value={query.from ?? ""} />
          </label>
          <label>
            To
            <input type="date" name="to" value={query.to ?? ""} />
          </label>
        </fieldset>
        <button type="submit" class="secondary">Filter</button>
        {filtered && <a href="/admin/actions">Clear</a>}
      </form>
      {list.items.length === 0
        ? (
          <p class="empty" data-testid="no-match">
            {filtered
              ? (
                <>
                  {list.cursor
                    ? "No action among the latest ones matches these filters."
                    : "No action matches these filters."}{" "}
                  <a href="/admin/actions">Show every action</a>
                </>
              )
              : query.cursor
              ? "No older actions."
              : "Nothing has been scheduled yet."}
          </p>
        )
        : (
          <div class="table-wrap">
            <table class="responsive" data-testid="actions">
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">When</th>
                  <th scope="col">Status</th>
                  <th scope="col">Instances</th>
                  <th scope="col">Notice</th>
                </tr>
              </thead>
              <tbody>
                {list.items.map((
                  { action, label, progress: c, stages, notices, preparing },
                ) => (
                  <tr data-action={action.id}>
                    <td data-label="Action">
                      <div>
                        <a href={`/admin/actions/${action.id}`}>{label}</a>
                        {action.imageTag && (
                          <div class="muted small">
                            <code>{action.imageTag}</code>
                          </div>
                        )}
                        {action.reason && (
                          <div class="muted small">{action.reason}</div>
                        )}
                      </div>
                    </td>
                    <td data-label="When">
                      {stages[0]
                        ? (
                          <LocalTime
                            at={stages[0].scheduledAt}
                            timeZone={data.timeZone}
                            now={data.now}
                            format="when"
                          />
                        )
                        : "—"}
                    </td>
                    <td data-label="Status">
                      <StatusPill status={action.status} />
                      {stages.length > 1 && (
                        <div class="muted small" data-testid="list-waves">
                          {wavesNote(action, stages)}
                        </div>
                      )}
                    </td>
                    <td data-label="Instances">
                      {preparing && "written" in preparing
                        ? (
                          <span data-testid="list-writing">
                            {writingLine(preparing)}
                          </span>
                        )
                        : (
                          <>
                            {c.total} · {c.applied} applied · {c.skipped}{" "}
                            skipped · {c.failed} failed
                            {c.cancelled > 0 && ` · ${c.cancelled} cancelled`}
                            {preparing && preparing.leftOut > 0 &&
                              ` · ${preparing.leftOut} left out`}
                          </>
                        )}
                    </td>
                    <td data-label="Notice">
                      <NoticeSummary action={action} />
                      <NoticeTotals notices={notices} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {list.cursor && (
        <p>
          <a href={nextPageHref(query, list.cursor)}>
            {list.items.length === 0 ? "Search older actions" : "Older actions"}
            {" "}
            →
          </a>
        </p>
      )}
    </>
  );
}

/** Every row of the action, whatever its kind and channel: sent, pending, failed. */
function NoticeTotals({ notices }: { notices: NoticeTally[] }) {
  if (!notices.length) return null;
  let sent = 0, pending = 0, failed = 0;
  for (const n of notices) {
    sent += n.sent + n.notDelivered;
    pending += n.pending;
    failed += n.failed;
  }
  return (
    <div class="muted small" data-testid="notice-totals">
      {sent} sent · {pending} pending · {failed} failed
    </div>
  );
}
