/** Admin: outbound webhooks — the endpoints, and registering one (its secret shown once, here). */
import type { Handlers, PageProps } from "$fresh/server.ts";
import { Head } from "$fresh/runtime.ts";
import { appContext } from "@/lib/app_context.ts";
import { AppError } from "@/lib/errors.ts";
import { readForm } from "@/lib/web/request_body.ts";
import type { State } from "@/lib/request_state.ts";
import { listWebhooks, registerWebhook } from "@/lib/webhooks/admin.ts";
import {
  CHAT_ALERT_EVENTS,
  WEBHOOK_EVENTS,
  type WebhookEndpointView,
  type WebhookKind,
} from "@/lib/webhooks/schemas.ts";
import { CsrfField } from "@/components/CsrfField.tsx";
import { StatusPill } from "@/components/StatusPill.tsx";

interface Data {
  endpoints: WebhookEndpointView[];
  csrfToken: string | null;
  created: (WebhookEndpointView & { secret: string }) | null;
  removed: string | null;
  error: string | null;
  form: { url: string; kind: WebhookKind; events: string[] };
  allowHttp: boolean;
}

const EMPTY_FORM: Data["form"] = { url: "", kind: "standard", events: [] };

export const handler: Handlers<Data, State> = {
  async GET(_req, ctx) {
    const app = appContext();
    return ctx.render({
      ...await listWebhooks(app),
      csrfToken: ctx.state.csrfToken,
      created: null,
      removed: ctx.url.searchParams.get("removed"),
      error: null,
      form: EMPTY_FORM,
      allowHttp: app.config.allowHttpWebhooks,
    });
  },
  async POST(req, ctx) {
    const app = appContext();
    const form = await readForm(req);
    const raw = {
      url: String(form.get("url") ?? ""),
      kind:
        (form.get("kind") === "slack" ? "slack" : "standard") as WebhookKind,
      events: form.getAll("events").map(String),
    };
    try {
      const created = await registerWebhook(app, ctx.state, {
        url: raw.url,
        kind: raw.kind,
        // None ticked: the kind's own set (every event, or the chat alert's).
        ...(raw.events.length ? { events: raw.events } : {}),
      });
      return ctx.render({
        ...await listWebhooks(app),
        csrfToken: ctx.state.csrfToken,
        created,
        removed: null,
        error: null,
        form: EMPTY_FORM,
        allowHttp: app.config.allowHttpWebhooks,
      }, { status: 201 });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const error = err.issues?.length
        ? err.issues.map((i) => `${i.path}: ${i.message}`).join("; ")
        : err.message;
      return ctx.render({
        ...await listWebhooks(app),
        csrfToken: ctx.state.csrfToken,
        created: null,
        removed: null,
        error,
        form: raw,
        allowHttp: app.config.allowHttpWebhooks,
      }, { status: err.status });
    }
  },
};

export default function Webhooks({ data }: PageProps<Data>) {
  const { created, form } = data;
  return (
    <>
      <Head>
        <title>Webhooks · Admin · KiloClaw</title>
      </Head>
      <h1>Webhooks</h1>
      <p class="muted">
        Other systems hear when an action is scheduled, starts, finishes, fails,
        is moved or called off. Each event is signed the{" "}
        <a href="https://www.standardwebhooks.com/">Standard Webhooks</a>{" "}
        way and retried for up to a day; a chat alert posts a short sentence
        (Slack's incoming-webhook format) when a rollout fails.
      </p>
      {created && (
        <section class="flash flash-ok" role="status" aria-labelledby="secret">
          <h2 id="secret">Registered {created.url}</h2>
          {created.kind === "slack"
            ? <p>Failed rollouts will be posted to this chat.</p>
            : (
              <>
                <p>
                  Its signing secret is shown this once; keep it with the
                  receiver, which verifies every request with it:
                </p>
                <p>
                  <code class="secret" data-testid="secret">
                    {created.secret}
                  </code>
                </p>
              </>
            )}
          <p>
            <a href={`/admin/webhooks/${created.id}`}>
              Open it to send a test event
            </a>
          </p>
        </section>
      )}
      {data.removed && (
        <p class="flash flash-ok" role="status">Removed {data.removed}.</p>
      )}
      {data.endpoints.length === 0
        ? <p>No endpoints yet.</p>
        : (
          <div class="table-wrap">
            <table class="responsive">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Events</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {data.endpoints.map((e) => (
                  <tr>
                    <td data-label="Endpoint">
                      <a href={`/admin/webhooks/${e.id}`}>{e.url}</a>
                    </td>
                    <td data-label="Kind">
                      {e.kind === "slack" ? "chat alert" : "signed JSON"}
                    </td>
                    <td data-label="Events">{e.events.join(", ")}</td>
                    <td data-label="State">
                      <StatusPill
                        status={e.disabledAt ? "disabled" : "active"}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <h2>Register an endpoint</h2>
      <form method="post" class="stack narrow">
        <CsrfField token={data.csrfToken} />
        <label>
          URL
          <input
            name="url"
            type="url"
            required
            value={form.url}
            placeholder="https://hooks.example.com/kiloclaw"
          />
        </label>
        <p class="hint muted">
          {data.allowHttp
            ? "https, or http to this machine (ALLOW_HTTP_WEBHOOKS is on)."
            : "https to a public address; private and internal addresses are refused."}
        </p>
        <fieldset class="choices">
          <legend>Kind</legend>
          <label class="check">
            <input
              type="radio"
              name="kind"
              value="standard"
              checked={form.kind === "standard"}
            />
            Signed JSON (Standard Webhooks)
          </label>
          <label class="check">
            <input
              type="radio"
              name="kind"
              value="slack"
              checked={form.kind === "slack"}
            />
            Chat alert (Slack incoming webhook), for{" "}
            {CHAT_ALERT_EVENTS.join(" and ")}
          </label>
        </fieldset>
        <fieldset class="choices">
          <legend>Events (none ticked: all the kind carries)</legend>
          {WEBHOOK_EVENTS.map((e) => (
            <label class="check">
              <input
                type="checkbox"
                name="events"
                value={e}
                checked={form.events.includes(e)}
              />
              <code>{e}</code>
            </label>
          ))}
        </fieldset>
        {data.error && <p class="error" role="alert">{data.error}</p>}
        <div>
          <button type="submit">Register endpoint</button>
        </div>
      </form>
    </>
  );
}
