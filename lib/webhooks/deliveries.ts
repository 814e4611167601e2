/**
 * Delivering webhook events, with the notice sweep's guarantees:
 *
 * 1. Fan-out (`fan_out.ts`): each event row (written with its change,
 *    `events.ts`) becomes one delivery row per endpoint subscribed to its
 *    type, in one atomic operation that also removes the event, so an event
 *    is fanned out once.
 * 2. Claim: a due delivery goes pending → sending under a lease, checked
 *    against the row's versionstamp, so two senders never both take it.
 * 3. Send, then mark: the answer is recorded only by the claim that holds
 *    the row. A sender that died leaves its rows in `sending`; once the lease
 *    ends they go back to pending (recovery) and are sent again under the
 *    same `webhook-id`: a receiver that keeps the ids it has processed sees
 *    each event once. The window left: a sender killed after the receiver
 *    took the request and before the answer was recorded sends it twice.
 * 4. Order: the deliveries of one action to one endpoint go one at a time,
 *    in event order; a later one waits while an earlier one is not final.
 *
 * `putDelivery` (`delivery_rows.ts`) is the one function that changes a
 * delivery and moves its index keys (due, lease, the action's queue, the
 * endpoint's log).
 */
import {
  BACKOFF_MS,
  CONCURRENCY,
  type DeliverDeps,
  type DeliverReport,
  GIVE_UP_AFTER_MS,
  isFinal,
  MAX_RETRY_AFTER_MS,
  putDelivery,
  type WebhookDelivery,
} from "./delivery_rows.ts";
import { fanOut, newDelivery } from "./fan_out.ts";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { newId } from "../ids.ts";
import { addAuditWrite, type AuditActor, newAuditEntry } from "../kv/audit.ts";
import { log } from "../operations/log.ts";
import { listEndpoints, type WebhookEndpoint } from "./endpoints.ts";
import { TEST_EVENT_TYPE } from "./schemas.ts";
import { resolvedAddressProblem, systemResolver } from "./address.ts";
import { attempt, type AttemptResult, requestFor } from "./send.ts";
import { forEachLimited } from "../kv/commits.ts";

/** Deliveries whose sender stopped go back to pending once their lease ends. */
export async function recoverDeliveries(
  kv: Deno.Kv,
  now: number,
): Promise<number> {
  let recovered = 0;
  for await (
    const e of kv.list({
      start: keys.webhookDeliveryLeases(),
      end: [...keys.webhookDeliveryLeases(), now + 1],
    })
  ) {
    const id = e.key[2] as string;
    const row = await kv.get<WebhookDelivery>(keys.webhookDelivery(id));
    const d = row.value;
    const held = d?.status === "sending" && d.leaseUntil === e.key[1];
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(row);
      if (!held) return op.delete(e.key);
      return putDelivery(op, d, {
        ...d,
        status: "pending",
        leaseUntil: null,
        nextAttemptAt: now,
        lastAnswer: d.lastAnswer ??
          "the sender stopped before recording an answer; sent again with the same webhook-id",
      });
    });
    if (res.ok && held) recovered++;
  }
  return recovered;
}

async function claim(
  deps: DeliverDeps,
  entry: Deno.KvEntry<WebhookDelivery>,
): Promise<Deno.KvEntry<WebhookDelivery> | null> {
  const now = deps.now();
  const d = entry.value;
  const next: WebhookDelivery = {
    ...d,
    status: "sending",
    attempts: d.attempts + 1,
    leaseUntil: now + deps.config.noticeLeaseSeconds * 1000,
    lastAttemptAt: new Date(now).toISOString(),
  };
  const res = await commitRetrying(() =>
    putDelivery(deps.kv.atomic().check(entry), d, next)
  );
  return res.ok
    ? { ...entry, value: next, versionstamp: res.versionstamp }
    : null;
}

/** What a delivery becomes after an attempt. */
export function afterAttempt(
  d: WebhookDelivery,
  r: AttemptResult,
  now: number,
): WebhookDelivery {
  const base = {
    ...d,
    leaseUntil: null,
    lastStatus: r.status,
    lastAnswer: r.answer,
  };
  if (r.outcome === "delivered") {
    return {
      ...base,
      status: "delivered",
      nextAttemptAt: null,
      deliveredAt: new Date(now).toISOString(),
    };
  }
  if (r.outcome === "retry") {
    const wait = Math.min(
      Math.max(
        BACKOFF_MS[Math.min(d.attempts - 1, BACKOFF_MS.length - 1)],
        r.retryAfterMs ?? 0,
      ),
      MAX_RETRY_AFTER_MS,
    );
    const giveUpAt = Date.parse(d.createdAt) + GIVE_UP_AFTER_MS;
    if (now + wait <= giveUpAt) {
      return { ...base, status: "pending", nextAttemptAt: now + wait };
    }
    return {
      ...base,
      status: "failed",
      nextAttemptAt: null,
      lastAnswer: `gave up after ${d.attempts} attempts over a day; last: ${
        r.status ?? "no answer"
      } ${r.answer}`.slice(0, 400),
    };
  }
  return { ...base, status: "failed", nextAttemptAt: null };
}

interface Tick {
  deps: DeliverDeps;
  endpoints: Map<string, WebhookEndpoint>;
  report: DeliverReport;
  /** Phases the fault tests watch; a no-op in the app. */
  onPhase: (phase: "answered", d: WebhookDelivery) => Promise<void>;
}

/** Sends one claimed delivery and records the answer; returns the record. */
async function send(
  t: Tick,
  claimed: Deno.KvEntry<WebhookDelivery>,
): Promise<WebhookDelivery | null> {
  const { deps } = t;
  const d = claimed.value;
  const endpoint = t.endpoints.get(d.endpointId);
  const result = await attemptFor(t, endpoint, d);
  if (result.status !== null) await t.onPhase("answered", d);
  const now = deps.now();
  const next = afterAttempt(d, result, now);
  const disable = result.outcome === "gone" && endpoint && !endpoint.disabledAt
    ? {
      ...endpoint,
      disabledAt: new Date(now).toISOString(),
      disabledReason:
        "the receiver answered 410 Gone: it asks for nothing more. Register it again to resume.",
    }
    : null;
  const res = await commitRetrying(() => {
    const op = putDelivery(deps.kv.atomic().check(claimed), d, next);
    return disable ? op.set(keys.webhookEndpoint(disable.id), disable) : op;
  });
  if (!res.ok) return null; // recovery took it back: its next claim sends it
  if (disable) {
    t.endpoints.set(disable.id, disable);
    t.report.disabled++;
  }
  if (next.status === "delivered") t.report.delivered++;
  else if (next.status === "failed") t.report.failed++;
  else t.report.retried++;
  return next;
}

async function attemptFor(
  t: Tick,
  endpoint: WebhookEndpoint | undefined,
  d: WebhookDelivery,
): Promise<AttemptResult> {
  const { deps } = t;
  if (!endpoint) {
    return { outcome: "failed", status: null, answer: "endpoint removed" };
  }
  if (endpoint.disabledAt) {
    return {
      outcome: "failed",
      status: null,
      answer: `endpoint disabled: ${endpoint.disabledReason ?? ""}`.trim(),
    };
  }
  const url = new URL(endpoint.url);
  if (!deps.config.allowHttpWebhooks) {
    const problem = await resolvedAddressProblem(
      url,
      deps.resolve ?? systemResolver,
    );
    if (problem && "refused" in problem) {
      return {
        outcome: "failed",
        status: null,
        answer: `not sent: ${problem.refused}`,
      };
    }
    if (problem) {
      return { outcome: "retry", status: null, answer: problem.unresolved };
    }
  }
  // The receiver checks the timestamp against its own clock: the wall
  // clock's, whatever clock the scheduler runs on.
  const request = requestFor(endpoint, d.eventId, d.payload, new Date());
  if (!request) {
    return {
      outcome: "failed",
      status: null,
      answer: `a chat alert does not carry ${d.type}`,
    };
  }
  const leaseMs = deps.config.noticeLeaseSeconds * 1000;
  // Well inside the lease: a live sender never loses its row to recovery.
  const timeoutMs = Math.max(1_000, Math.min(15_000, Math.floor(leaseMs / 2)));
  return await attempt(
    deps.fetch ?? fetch,
    endpoint.url,
    request,
    timeoutMs,
    deps.now(),
  );
}

async function firstQueued(
  kv: Deno.Kv,
  endpointId: string,
  actionId: string,
): Promise<string | null> {
  for await (
    const e of kv.list<string>({
      prefix: keys.webhookQueue(endpointId, actionId),
    }, { limit: 1 })
  ) return e.value;
  return null;
}

/**
 * Sends an action's deliveries to one endpoint in event order, for as long
 * as the one at the head is due and gets delivered (or fails for good).
 */
async function drainQueue(
  t: Tick,
  endpointId: string,
  actionId: string,
): Promise<void> {
  const { kv } = t.deps;
  for (;;) {
    const id = await firstQueued(kv, endpointId, actionId);
    if (!id) return;
    const entry = await kv.get<WebhookDelivery>(keys.webhookDelivery(id));
    const d = entry.value;
    if (d?.status !== "pending" || d.nextAttemptAt! > t.deps.now()) return;
    const claimed = await claim(t.deps, entry as Deno.KvEntry<WebhookDelivery>);
    if (!claimed) return;
    const after = await send(t, claimed);
    if (!after || !isFinal(after)) return;
  }
}

/**
 * One delivery tick (the minute job, and tests): recovery, fan-out, then
 * every due delivery — an action's to one endpoint in order, the rest side
 * by side.
 */
export async function deliverWebhooks(
  deps: DeliverDeps,
  opts: { onPhase?: Tick["onPhase"] } = {},
): Promise<DeliverReport> {
  const { kv } = deps;
  const report: DeliverReport = {
    fannedOut: 0,
    delivered: 0,
    retried: 0,
    failed: 0,
    recovered: await recoverDeliveries(kv, deps.now()),
    disabled: 0,
  };
  const list = await listEndpoints(kv);
  report.fannedOut = await fanOut(deps, list);
  const t: Tick = {
    deps,
    endpoints: new Map(list.map((e) => [e.id, e])),
    report,
    onPhase: opts.onPhase ?? (() => Promise.resolve()),
  };
  const queues = new Map<string, [string, string]>();
  const alone: string[] = [];
  const due: string[] = [];
  for await (
    const e of kv.list({
      start: keys.webhookDeliveriesDue(),
      end: [...keys.webhookDeliveriesDue(), deps.now() + 1],
    })
  ) due.push(e.key[2] as string);
  for (let i = 0; i < due.length; i += 10) {
    const rows = await kv.getMany<WebhookDelivery[]>(
      due.slice(i, i + 10).map((id) => keys.webhookDelivery(id)),
    );
    for (const r of rows) {
      const d = r.value;
      if (!d) continue;
      if (d.actionId) {
        queues.set(`${d.endpointId}\u0000${d.actionId}`, [
          d.endpointId,
          d.actionId,
        ]);
      } else alone.push(d.id);
    }
  }
  const work: (() => Promise<void>)[] = [
    ...[...queues.values()].map(([endpointId, actionId]) => () =>
      drainQueue(t, endpointId, actionId)
    ),
    ...alone.map((id) => () => sendAlone(t, id)),
  ];
  await forEachLimited(work, CONCURRENCY, async (w) => {
    try {
      await w();
    } catch (err) {
      // One queue's trouble (a KV error) never holds back the others; its
      // held row goes back to pending when its lease ends.
      log.error("webhook delivery failed", { error: String(err) });
    }
  });
  return report;
}

async function sendAlone(t: Tick, id: string): Promise<void> {
  const entry = await t.deps.kv.get<WebhookDelivery>(keys.webhookDelivery(id));
  const d = entry.value;
  if (d?.status !== "pending" || d.nextAttemptAt! > t.deps.now()) return;
  const claimed = await claim(t.deps, entry as Deno.KvEntry<WebhookDelivery>);
  if (claimed) await send(t, claimed);
}

/**
 * "Send a test event": a `webhook.test` delivery to this endpoint alone,
 * queued like any other (so it shows in the log and is retried like any
 * other), then sent at once.
 */
export async function sendTestEvent(
  deps: DeliverDeps,
  endpoint: WebhookEndpoint,
  who: AuditActor,
): Promise<WebhookDelivery> {
  const { kv } = deps;
  const now = deps.now();
  const eventId = newId();
  const d = newDelivery(endpoint.id, eventId, TEST_EVENT_TYPE, null, {
    type: TEST_EVENT_TYPE,
    timestamp: new Date(now).toISOString(),
    data: { action: null, counts: null },
  }, now);
  const audit = newAuditEntry(who, {
    change: "webhook.test",
    subject: { type: "webhook", id: endpoint.id },
    details: { url: endpoint.url, eventId },
  }, now);
  await commitRetrying(() =>
    addAuditWrite(putDelivery(kv.atomic(), null, d), audit)
  );
  const t: Tick = {
    deps,
    endpoints: new Map([[endpoint.id, endpoint]]),
    report: {
      fannedOut: 0,
      delivered: 0,
      retried: 0,
      failed: 0,
      recovered: 0,
      disabled: 0,
    },
    onPhase: () => Promise.resolve(),
  };
  await sendAlone(t, d.id);
  return (await kv.get<WebhookDelivery>(keys.webhookDelivery(d.id))).value ??
    d;
}
