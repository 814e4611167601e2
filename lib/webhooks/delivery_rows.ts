/**
 * A webhook delivery and its keys: `putDelivery` is the one function that
 * changes a delivery and moves its index keys (due, lease, the action's
 * queue, the endpoint's log); the endpoint's log reads them back.
 */
import { keys } from "../kv/keys.ts";
import type {
  DeliveryStatus,
  WebhookDeliveryView,
  WebhookPayload,
} from "./schemas.ts";
import type { Resolver } from "./address.ts";

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  /** Sent as `webhook-id`: the same on every attempt and for every endpoint. */
  eventId: string;
  type: string;
  /** Null for a test event: it waits for nothing. */
  actionId: string | null;
  payload: WebhookPayload;
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  /** Epoch ms of the next attempt, while pending. */
  nextAttemptAt: number | null;
  /** Epoch ms the claim holds the row until, while sending. */
  leaseUntil: number | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastAnswer: string | null;
  deliveredAt: string | null;
}

/** Finished deliveries stay in the log this long. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3_600_000;
/** Retries stop this long after the event was fanned out; the delivery fails. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;
/** Waits before attempts 2, 3, …; the last one repeats. */
export const BACKOFF_MS = [
  5_000,
  30_000,
  120_000,
  600_000,
  1_800_000,
  3_600_000,
  7_200_000,
  14_400_000,
];
/** A receiver's Retry-After is honoured up to this. */
export const MAX_RETRY_AFTER_MS = 6 * 3_600_000;
/** Deliveries sent at once in one tick (across endpoints and actions). */
export const CONCURRENCY = 8;

export const isFinal = (d: WebhookDelivery) =>
  d.status === "delivered" || d.status === "failed";

function dueKeyOf(d: WebhookDelivery | null) {
  return d?.status === "pending"
    ? keys.webhookDeliveryDue(d.nextAttemptAt!, d.id)
    : null;
}
function leaseKeyOf(d: WebhookDelivery | null) {
  return d?.status === "sending"
    ? keys.webhookDeliveryLease(d.leaseUntil!, d.id)
    : null;
}
function queueKeyOf(d: WebhookDelivery | null) {
  return d && d.actionId && !isFinal(d)
    ? keys.webhookQueued(d.endpointId, d.actionId, d.eventId)
    : null;
}

/**
 * Writes `next` in place of `prev` (null: a new delivery), moving its index
 * keys in the same operation. Nothing else writes deliveries or their keys.
 */
export function putDelivery(
  op: Deno.AtomicOperation,
  prev: WebhookDelivery | null,
  next: WebhookDelivery,
): Deno.AtomicOperation {
  for (const keyOf of [dueKeyOf, leaseKeyOf, queueKeyOf]) {
    const was = keyOf(prev);
    const is = keyOf(next);
    const same = was && is && JSON.stringify(was) === JSON.stringify(is);
    if (was && !same) op.delete(was);
    if (is && !same) op.set(is, next.id);
  }
  const opts = isFinal(next) ? { expireIn: DELIVERY_RETENTION_MS } : undefined;
  op.set(keys.webhookDelivery(next.id), next, opts);
  op.set(keys.webhookDeliveryByEndpoint(next.endpointId, next.id), null, opts);
  return op;
}

export interface DeliverDeps {
  kv: Deno.Kv;
  config: {
    publicUrl: string;
    noticeLeaseSeconds: number;
    allowHttpWebhooks: boolean;
  };
  now: () => number;
  /** The HTTP client (tests count or cut requests with it). */
  fetch?: typeof fetch;
  /** The DNS lookup the address check uses. */
  resolve?: Resolver;
}

export interface DeliverReport {
  fannedOut: number;
  delivered: number;
  retried: number;
  failed: number;
  recovered: number;
  disabled: number;
}

export function deliveryView(d: WebhookDelivery): WebhookDeliveryView {
  return {
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    type: d.type,
    actionId: d.actionId,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
    nextAttemptAt: d.nextAttemptAt === null
      ? null
      : new Date(d.nextAttemptAt).toISOString(),
    lastAttemptAt: d.lastAttemptAt,
    lastStatus: d.lastStatus,
    lastAnswer: d.lastAnswer,
    deliveredAt: d.deliveredAt,
  };
}

/** An endpoint's delivery log, newest first. */
export async function listDeliveries(
  kv: Deno.Kv,
  endpointId: string,
  limit = 50,
): Promise<WebhookDelivery[]> {
  const ids: string[] = [];
  for await (
    const e of kv.list(
      { prefix: keys.webhookDeliveriesByEndpoint(endpointId) },
      {
        reverse: true,
        limit,
      },
    )
  ) ids.push(e.key[2] as string);
  const out: WebhookDelivery[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const rows = await kv.getMany<WebhookDelivery[]>(
      ids.slice(i, i + 10).map((id) => keys.webhookDelivery(id)),
    );
    for (const r of rows) if (r.value) out.push(r.value);
  }
  return out;
}
