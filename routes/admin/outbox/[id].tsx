/** One outbox message: an email rendered in a sandboxed frame with its text part, or a push with its data. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getOutboxMessage } from "@/lib/channels/outbox.ts";
import {
  describeOutboxMessage,
  type OutboxRow,
} from "@/lib/channels/outbox_view.ts";
import { noticeKindName } from "@/lib/channel_names.ts";
import type { NotificationKind } from "@/lib/types.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import LocalTime from "@/islands/LocalTime.tsx";

interface Data {
  row: OutboxRow;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, now } = appContext();
    const id = parseId(ctx.params.id, "message id");
    const m = await getOutboxMessage(kv, id, ctx.state.user);
    if (!m) throw new NotFoundError("no such outbox message");
    return ctx.render({
      row: await describeOutboxMessage(kv, m),
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

export default function OutboxMessagePage({ data }: PageProps<Data>) {
  const { row } = data;
  const m = row.message;
  // A push carries its kind only in its event: scheduled_restart_notice.
  const kind = m.tags.kind ??
    (m.kind === "push"
      ? String((m.data as { event?: unknown }).event ?? "").split("_").pop()
      : undefined);
  return (
    <>
      <Head>
        <title>
          {`${m.kind === "email" ? m.subject : m.title} · Outbox · KiloClaw`}
        </title>
      </Head>
      <p>
        <a href="/admin/outbox">← Outbox</a>
      </p>
      <h1>{m.kind === "email" ? m.subject : m.title}</h1>
      <dl class="facts">
        <dt>Sent as</dt>
        <dd>
          {m.kind === "email" ? "Email" : "Push"}
          {kind === "sign_in"
            ? " · sign-in link"
            : kind
            ? ` · ${noticeKindName(kind as NotificationKind).toLowerCase()}`
            : ""}
        </dd>
        <dt>To</dt>
        <dd>
          {row.recipient
            ? (
              <a
                href={`/admin/outbox?to=${
                  encodeURIComponent(row.recipient.email)
                }`}
              >
                {row.recipient.label}
              </a>
            )
            : m.kind === "email"
            ? m.to
            : "a device no user holds now"}
          {m.kind === "push" && (
            <>
              {" "}
              <span class="muted">
                (device <code>{m.to.replace(/\[(.{6}).*\]$/, "[$1…]")}</code>)
              </span>
            </>
          )}
        </dd>
        {row.actionId && (
          <>
            <dt>About</dt>
            <dd>
              <a href={`/admin/actions/${row.actionId}`}>
                {row.actionLabel ?? "the action"}
              </a>
              {row.instance && (
                <>
                  {" · "}
                  <a href={`/admin/instances/${row.instance.id}`}>
                    {row.instance.name}
                  </a>
                </>
              )}
            </dd>
          </>
        )}
        {m.kind === "email" && m.headers &&
          Object.entries(m.headers).map(([name, value]) => (
            <>
              <dt>{name}</dt>
              <dd>
                <code>{value}</code>
              </dd>
            </>
          ))}
        <dt>When</dt>
        <dd>
          <LocalTime
            at={m.createdAt}
            timeZone={data.timeZone}
            now={data.now}
            format="when"
          />
        </dd>
      </dl>
      {m.kind === "email"
        ? (
          <>
            <h2>HTML</h2>
            <iframe
              class="email-frame"
              title="Email preview"
              sandbox=""
              src={`/admin/outbox/${m.id}/html`}
            />
            <h2>Plain text</h2>
            <pre class="email-text">{m.text}</pre>
          </>
        )
        : (
          <>
            <h2>Body</h2>
            <p>{m.body}</p>
            <h2>Data</h2>
            <pre>{JSON.stringify(m.data, null, 2)}</pre>
          </>
        )}
    </>
  );
}
