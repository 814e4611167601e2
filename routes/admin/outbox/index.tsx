/** Admin: what the embedded outbox holds (email and push when no provider is configured), newest first. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { listOutbox, type OutboxMessage } from "@/lib/channels/outbox.ts";
import { listCursor } from "@/lib/kv/cursor.ts";
import type { State } from "@/lib/request_state.ts";
import LocalTime from "@/islands/LocalTime.tsx";
import { CursorPager } from "@/components/Pager.tsx";

interface Data {
  items: OutboxMessage[];
  cursor: string | null;
  emailVia: string;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const { kv, email, now } = appContext();
    const { items, cursor } = await listOutbox(kv, {
      limit: 50,
      cursor: listCursor(ctx.url.searchParams.get("cursor")),
    });
    return ctx.render({
      items,
      cursor,
      emailVia: email.name,
      timeZone: ctx.state.user?.timeZone ?? null,
      now: now(),
    });
  },
};

export default function Outbox({ data, url }: PageProps<Data>) {
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
            <table class="responsive">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">To</th>
                  <th scope="col">Subject / title</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((m) => (
                  <tr>
                    <td data-label="When">
                      <LocalTime
                        at={m.createdAt}
                        timeZone={data.timeZone}
                        now={data.now}
                        format="short"
                      />
                    </td>
                    <td data-label="Kind">{m.kind}</td>
                    <td data-label="To">{m.to}</td>
                    <td data-label="Subject">
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
      <CursorPager url={url} cursor={data.cursor} label="Older messages →" />
    </>
  );
}
