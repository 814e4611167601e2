/** One outbox message: an email rendered in a sandboxed frame with its text part, or a push with its data. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { getOutboxMessage, type OutboxMessage } from "@/lib/channels/outbox.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { parseId } from "@/lib/ids.ts";
import type { State } from "@/lib/request_state.ts";
import LocalTime from "@/islands/LocalTime.tsx";

interface Data {
  m: OutboxMessage;
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
      m,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

export default function OutboxMessagePage({ data }: PageProps<Data>) {
  const { m } = data;
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
        <dt>Kind</dt>
        <dd>{m.kind === "email" ? "Email" : "Push"}</dd>
        <dt>To</dt>
        <dd>{m.to}</dd>
        <dt>When</dt>
        <dd>
          <LocalTime
            at={m.createdAt}
            timeZone={data.timeZone}
            now={data.now}
            format="when"
          />
        </dd>
        {Object.keys(m.tags).length > 0 && (
          <>
            {/* The provider's tags, as sent: raw names, kept apart from the page's own labels. */}
            <dt>Tags</dt>
            <dd>
              <ul class="plain">
                {Object.entries(m.tags).map(([k, v]) => (
                  <li>
                    <code>{k}: {v}</code>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
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
