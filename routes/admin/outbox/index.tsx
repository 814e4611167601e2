/** Admin: what the embedded outbox holds (email and push when no provider is configured), newest first. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "../../../lib/context.ts";
import {
  listOutbox,
  type OutboxMessage,
} from "../../../lib/channels/outbox.ts";
import { listCursor } from "../../../lib/kv/cursor.ts";
import type { State } from "../../../lib/state.ts";

interface Data {
  items: OutboxMessage[];
  cursor: string | null;
  emailVia: string;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, email } = appContext();
    const { items, cursor } = await listOutbox(kv, {
      limit: 50,
      cursor: listCursor(ctx.url.searchParams.get("cursor")),
    });
    return ctx.render({ items, cursor, emailVia: email.name });
  },
};

export default function Outbox({ data }: PageProps<Data>) {
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
      {data.items.length === 0
        ? <p>The outbox is empty.</p>
        : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>When</th>
                  <th>Kind</th>
                  <th>To</th>
                  <th>Subject / title</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((m) => (
                  <tr>
                    <td class="nowrap">
                      {new Date(m.createdAt).toISOString().replace("T", " ")
                        .slice(0, 19)}
                    </td>
                    <td>{m.kind}</td>
                    <td>{m.to}</td>
                    <td>
                      <a href={`/admin/outbox/${m.id}`}>
                        {m.kind === "email" ? m.subject : m.title}
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {data.cursor && (
        <p>
          <a href={`/admin/outbox?cursor=${encodeURIComponent(data.cursor)}`}>
            Older messages →
          </a>
        </p>
      )}
    </>
  );
}
