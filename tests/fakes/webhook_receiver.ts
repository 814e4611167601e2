/**
 * A webhook receiver on a local port, as a careful integrator writes one:
 * every request to a registered path is verified with `standardwebhooks`
 * (the same library the app signs with) against that path's secret — a
 * wrong signature or an old timestamp is refused with 401 — and each
 * `webhook-id` is processed once however often it arrives. A path can be
 * scripted to answer other statuses (a receiver down, gone). Slack-style
 * paths (registered without a secret) record the text they get.
 *
 *   const r = startWebhookReceiver();
 *   r.register("/hooks/a", secret);          // after POST /api/admin/webhooks
 *   r.script("/hooks/a", { status: 503 }, { status: 503 });
 *   r.processed("/hooks/a")                  // events in the order processed
 *   r.arrivals("/hooks/a").get(id)           // requests carrying that webhook-id
 */
import { Webhook } from "standardwebhooks";

export interface Processed {
  id: string;
  type: string;
  actionId: string | null;
  body: Record<string, unknown>;
}

export type Scripted = { status: number; headers?: Record<string, string> };

interface PathState {
  verifier: Webhook | null;
  processed: Processed[];
  arrivals: Map<string, number>;
  rejected: string[];
  texts: string[];
  script: Scripted[];
  /** Answered to every request once the script is used up (default 200). */
  steady: Scripted;
}

export interface WebhookReceiver {
  origin: string;
  url(path: string): string;
  /** Verifies requests to `path` with this secret (null: a chat endpoint, unsigned). */
  register(path: string, secret: string | null): void;
  /** The next answers of `path`, in order. */
  script(path: string, ...answers: Scripted[]): void;
  /** What `path` answers once its script is used up. */
  answerAlways(path: string, answer: Scripted): void;
  processed(path: string): Processed[];
  /** Requests per `webhook-id` that passed verification (duplicates included). */
  arrivals(path: string): Map<string, number>;
  /** Why requests were refused (bad signature, old timestamp…). */
  rejected(path: string): string[];
  texts(path: string): string[];
  close(): Promise<void>;
}

export function startWebhookReceiver(): WebhookReceiver {
  const paths = new Map<string, PathState>();
  const stateOf = (path: string): PathState => {
    let s = paths.get(path);
    if (!s) {
      s = {
        verifier: null,
        processed: [],
        arrivals: new Map(),
        rejected: [],
        texts: [],
        script: [],
        steady: { status: 200 },
      };
      paths.set(path, s);
    }
    return s;
  };
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      const s = paths.get(path);
      const body = await req.text();
      if (!s) return new Response("no such hook", { status: 404 });
      const scripted = s.script.shift() ?? s.steady;
      if (scripted.status !== 200) {
        return new Response(`scripted ${scripted.status}`, {
          status: scripted.status,
          headers: scripted.headers,
        });
      }
      if (!s.verifier) {
        s.texts.push(String(JSON.parse(body).text));
        return new Response("ok");
      }
      let payload: Record<string, unknown>;
      try {
        payload = s.verifier.verify(body, {
          "webhook-id": req.headers.get("webhook-id") ?? "",
          "webhook-timestamp": req.headers.get("webhook-timestamp") ?? "",
          "webhook-signature": req.headers.get("webhook-signature") ?? "",
        }) as Record<string, unknown>;
      } catch (err) {
        s.rejected.push((err as Error).message);
        return new Response((err as Error).message, { status: 401 });
      }
      const id = req.headers.get("webhook-id")!;
      s.arrivals.set(id, (s.arrivals.get(id) ?? 0) + 1);
      if (s.arrivals.get(id) === 1) {
        const data = payload.data as { action?: { id?: string } | null };
        s.processed.push({
          id,
          type: String(payload.type),
          actionId: data?.action?.id ?? null,
          body: payload,
        });
      }
      return new Response("ok");
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    register(path, secret) {
      stateOf(path).verifier = secret ? new Webhook(secret) : null;
    },
    script(path, ...answers) {
      stateOf(path).script.push(...answers);
    },
    answerAlways(path, answer) {
      stateOf(path).steady = answer;
    },
    processed: (path) => stateOf(path).processed,
    arrivals: (path) => stateOf(path).arrivals,
    rejected: (path) => stateOf(path).rejected,
    texts: (path) => stateOf(path).texts,
    close: () => server.shutdown(),
  };
}
