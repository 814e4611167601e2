/** Admin: one webhook endpoint — its delivery log, a test event, removal. */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { BadRequestError } from "@/lib/errors.ts";
import { readForm } from "@/lib/web/request_body.ts";
import { parseId } from "@/lib/ids.ts";
import { redirect } from "@/lib/web/http.ts";
import type { State } from "@/lib/request_state.ts";
import {
  removeWebhook,
  testWebhook,
  webhookWithLog,
} from "@/lib/webhooks/admin.ts";
import type {
  WebhookDeliveryView,
  WebhookEndpointView,
} from "@/lib/webhooks/schemas.ts";
import { CsrfField } from "@/components/CsrfField.tsx";
import { StatusPill } from "@/components/StatusPill.tsx";
import LocalTime from "@/islands/LocalTime.tsx";

interface Data {
  endpoint: WebhookEndpointView;
  deliveries: WebhookDeliveryView[];
  csrfToken: string | null;
  tested: boolean;
  timeZone: string | null;
  now: number;
}

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const app = appContext();
    const id = parseId(ctx.params.id, "webhook id");
    return ctx.render({
      ...await webhookWithLog(app, id),
      csrfToken: ctx.state.csrfToken,
      tested: ctx.url.searchParams.has("tested"),
      timeZone: ctx.state.user?.timeZone ?? null,
      now: app.now(),
    });
  },
  async POST(req, ctx) {
    const app = appContext();
    const id = parseId(ctx.params.id, "webhook id");
    const intent = (await readForm(req)).get("intent");
    if (intent === "test") {
      await testWebhook(app, ctx.state, id);
      return redirect(`/admin/webhooks/${id}?tested`);
    }
    if (intent === "delete") {
      const { endpoint } = await webhookWithLog(app, id);
      await removeWebhook(app, ctx.state, id);
      return redirect(
        `/admin/webhooks?removed=${encodeURIComponent(endpoint.url)}`,
      );
    }
    throw new BadRequestError(`intent: expected "test" or "delete"`);
  },
};

function Answer({ d }: { d: WebhookDeliveryView }) {
  if (d.lastStatus === null && d.lastAnswer === null) {
    return <span class="muted">not sent yet</span>;
  }
  return (
    <>
      {d.lastStatus !== null && <strong>{d.lastStatus}</strong>}{" "}
      {d.lastAnswer && <span class="answer">{d.lastAnswer}</span>}
    </>
  );
}

export default function WebhookPage({ data }: PageProps<Data>) {
  const { endpoint: e, timeZone, now } = data;
  return (
    <>
      <Head>
        <title>Webhook · Admin · KiloClaw</title>
      </Head>
      <p>
        <a href="/admin/webhooks">All webhooks</a>
      </p>
      <h1>
        Webhook <span class="webhook-url">{e.url}</span>
      </h1>
      {data.tested && (
        <p class="flash flash-ok" role="status">
          Test event sent; its delivery is at the top of the log.
        </p>
      )}
      {e.disabledAt && (
        <p class="flash flash-error" role="alert">
          Disabled{" "}
          <LocalTime at={e.disabledAt} timeZone={timeZone} now={now} />:{" "}
          {e.disabledReason}
        </p>
      )}
      <dl class="facts">
        <dt>Kind</dt>
        <dd>
          {e.kind === "slack"
            ? "chat alert (Slack incoming webhook)"
            : "signed JSON (Standard Webhooks)"}
        </dd>
        <dt>Events</dt>
        <dd>{e.events.join(", ")}</dd>
        <dt>Registered</dt>
        <dd>
          <LocalTime at={e.createdAt} timeZone={timeZone} now={now} />
        </dd>
      </dl>
      <div class="row-inline">
        <form method="post">
          <CsrfField token={data.csrfToken} />
          <input type="hidden" name="intent" value="test" />
          <button type="submit">Send a test event</button>
        </form>
        <form method="post">
          <CsrfField token={data.csrfToken} />
          <input type="hidden" name="intent" value="delete" />
          <button type="submit" class="danger">Remove endpoint</button>
        </form>
      </div>
      <h2>Delivery log</h2>
      {data.deliveries.length === 0
        ? <p>Nothing sent yet.</p>
        : (
          <div class="table-wrap">
            <table class="responsive" aria-label="Delivery log">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Action</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last answer</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {data.deliveries.map((d) => (
                  <tr data-testid="delivery">
                    <td data-label="Event">
                      <code>{d.type}</code>
                      <br />
                      <small class="muted">{d.eventId}</small>
                    </td>
                    <td data-label="Action">
                      {d.actionId
                        ? <a href={`/admin/actions/${d.actionId}`}>open</a>
                        : <span class="muted">none</span>}
                    </td>
                    <td data-label="Status">
                      <StatusPill status={d.status} />
                      {d.status === "pending" && d.nextAttemptAt && (
                        <>
                          {" "}next{" "}
                          <LocalTime
                            at={d.nextAttemptAt}
                            timeZone={timeZone}
                            now={now}
                            format="relative"
                          />
                        </>
                      )}
                    </td>
                    <td data-label="Attempts">{d.attempts}</td>
                    <td data-label="Last answer">
                      <Answer d={d} />
                    </td>
                    <td data-label="When">
                      <LocalTime
                        at={d.deliveredAt ?? d.lastAttemptAt ?? d.createdAt}
                        timeZone={timeZone}
                        now={now}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </>
  );
}
