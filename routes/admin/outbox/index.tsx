/**
 * Admin: what the embedded outbox holds (email and push when no provider is
 * configured), newest first, filtered by recipient and action; each message
 * names the person it went to and links to its action.
 */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import {
  listOutboxRows,
  type OutboxFilter,
  type OutboxRow,
  parseOutboxFilter,
} from "@/lib/channels/outbox_view.ts";
import type { State } from "@/lib/request_state.ts";
import LocalTime from "@/islands/LocalTime.tsx";
import { CursorPager } from "@/components/Pager.tsx";

interface Data {
  rows: OutboxRow[];
  cursor: string | null;
  filter: OutboxFilter;
  emailVia: string;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, email, now } = appContext();
    const filter = parseOutboxFilter(ctx.url.searchParams);
    const { rows, cursor } = await listOutboxRows(kv, filter, {
      limit: 50,
      cursor: ctx.url.searchParams.get("cursor"),
    });
    return ctx.render({
      rows,
      cursor,
      filter,
      emailVia: email.name,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

/** The outbox filtered by one more thing (a recipient, an action). */
function filteredHref(filter: OutboxFilter, more: Partial<OutboxFilter>) {
  const next = { ...filter, ...more };
  const p = new URLSearchParams();
  if (next.to) p.set("to", next.to);
  if (next.action) p.set("action", next.action);
  return `/admin/outbox?${p}`;
}

export default function Outbox({ data, url }: PageProps<Data>) {
  const { filter } = data;
  const filtered = Boolean(filter.to || filter.action);
  return (
    <>
      <Head>
        <title>Outbox · Admin · KiloClaw</title>
      </Head>
      <h1>Outbox</h1>
      <p class="muted">
        Email and push that would have gone to users, kept here for 30 days
        because no provider is configured
        {data.emailVia !== "outbox"
          ? ` for push (email goes through ${data.emailVia})`
          : ""}.
      </p>
      <form method="get" class="filters" role="search" aria-label="Outbox">
        <label class="grow">
          Recipient's email
          <input
            type="search"
            name="to"
            value={filter.to}
            placeholder="maya@example.com"
            autocomplete="off"
          />
        </label>
        <label class="grow">
          Action id
          <input
            type="search"
            name="action"
            value={filter.action}
            autocomplete="off"
          />
        </label>
        <button type="submit" class="secondary">Filter</button>
        {filtered && <a href="/admin/outbox">Clear</a>}
      </form>
      {data.rows.length === 0
        ? (
          <p class="empty" data-testid="no-match">
            {filtered
              ? (
                <>
                  {data.cursor
                    ? "No message among the latest ones matches."
                    : "No message matches."}{" "}
                  <a href="/admin/outbox">Show every message</a>
                </>
              )
              : "The outbox is empty."}
          </p>
        )
        : (
          <div class="table-wrap">
            <table class="responsive" data-testid="outbox">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">To</th>
                  <th scope="col">Subject / title</th>
                  <th scope="col">About</th>
                </tr>
              </thead>
              <tbody>
                {data.rows.map((r) => (
                  <MessageRow
                    row={r}
                    filter={filter}
                    timeZone={data.timeZone}
                    now={data.now}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      <CursorPager
        url={url}
        cursor={data.cursor}
        label={data.rows.length === 0
          ? "Search older messages →"
          : "Older messages →"}
      />
    </>
  );
}

function MessageRow(
  { row: r, filter, timeZone, now }: {
    row: OutboxRow;
    filter: OutboxFilter;
    timeZone: string | null;
    now: number;
  },
) {
  const m = r.message;
  return (
    <tr data-message={m.id}>
      <td data-label="When">
        <LocalTime at={m.createdAt} timeZone={timeZone} now={now} />
      </td>
      <td data-label="Kind">{m.kind === "email" ? "Email" : "Push"}</td>
      <td data-label="To">
        <div>
          {r.recipient
            ? (
              <a
                href={filteredHref(filter, { to: r.recipient.email })}
                title="Every message to them"
              >
                {r.recipient.label}
              </a>
            )
            : m.kind === "email"
            ? <a href={filteredHref(filter, { to: m.to })}>{m.to}</a>
            : <span class="muted">a device no user holds now</span>}
        </div>
      </td>
      <td data-label="Subject">
        <a href={`/admin/outbox/${m.id}`}>
          {m.kind === "email" ? m.subject : m.title}
        </a>
      </td>
      <td data-label="About">
        <div>
          {r.actionId && (
            <div>
              <a href={`/admin/actions/${r.actionId}`}>
                {r.actionLabel ?? "The action"}
              </a>
              {filter.action !== r.actionId && (
                <>
                  {" · "}
                  <a href={filteredHref(filter, { action: r.actionId })}>
                    its messages
                  </a>
                </>
              )}
            </div>
          )}
          {r.instance && (
            <div class="small">
              <a href={`/admin/instances/${r.instance.id}`}>
                {r.instance.name}
              </a>
            </div>
          )}
          {!r.actionId && !r.instance && (
            <span class="muted">
              {m.tags.kind === "sign_in" ? "Sign-in link" : "—"}
            </span>
          )}
        </div>
      </td>
    </tr>
  );
}
