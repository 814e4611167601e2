/**
 * Fan-out: each event row (written with its change, `events.ts`) becomes one
 * delivery row per endpoint subscribed to its type, in one atomic operation
 * that also removes the event, so an event is fanned out once.
 */
import {
  type DeliverDeps,
  DELIVERY_RETENTION_MS,
  putDelivery,
  type WebhookDelivery,
} from "./delivery_rows.ts";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getActionCounters } from "../kv/actions.ts";
import { newId } from "../ids.ts";
import type { ActionCounters } from "../types.ts";
import { log } from "../operations/log.ts";
import type { WebhookEvent } from "./events.ts";
import type { WebhookEndpoint } from "./endpoints.ts";
import type { WebhookPayload } from "./schemas.ts";

function payloadOf(
  ev: WebhookEvent,
  counts: ActionCounters | null,
  publicUrl: string,
): WebhookPayload {
  return {
    type: ev.type,
    timestamp: ev.at,
    data: {
      action: {
        ...ev.action,
        url: `${publicUrl}/admin/actions/${ev.action.id}`,
      },
      counts: counts
        ? {
          total: counts.total,
          applied: counts.applied,
          skipped: counts.skipped,
          failed: counts.failed,
        }
        : null,
      ...(ev.target ? { target: ev.target } : {}),
      ...(ev.from ? { from: ev.from } : {}),
      ...(ev.to ? { to: ev.to } : {}),
      ...(ev.wave ? { wave: ev.wave } : {}),
    },
  };
}

export function newDelivery(
  endpointId: string,
  eventId: string,
  type: string,
  actionId: string | null,
  payload: WebhookPayload,
  now: number,
): WebhookDelivery {
  return {
    id: newId(),
    endpointId,
    eventId,
    type,
    actionId,
    payload,
    status: "pending",
    attempts: 0,
    createdAt: new Date(now).toISOString(),
    nextAttemptAt: now,
    leaseUntil: null,
    lastAttemptAt: null,
    lastStatus: null,
    lastAnswer: null,
    deliveredAt: null,
  };
}

/** Turns every waiting event into its deliveries, oldest first. */
export async function fanOut(
  deps: DeliverDeps,
  endpoints: WebhookEndpoint[],
): Promise<number> {
  const { kv } = deps;
  let fanned = 0;
  for (;;) {
    const page: Deno.KvEntry<WebhookEvent>[] = [];
    for await (
      const e of kv.list<WebhookEvent>({ prefix: keys.webhookEvents() }, {
        limit: 100,
      })
    ) page.push(e);
    if (!page.length) return fanned;
    let progressed = false;
    for (const e of page) {
      const ev = e.value;
      try {
        const listening = endpoints.filter((x) =>
          !x.disabledAt && (x.events as string[]).includes(ev.type)
        );
        const { subscribed, alerted } = await withoutRepeatedChatAlerts(
          kv,
          ev,
          listening,
        );
        const counts = ev.counts ??
          (subscribed.length ? await getActionCounters(kv, ev.actionId) : null);
        const payload = payloadOf(ev, counts, deps.config.publicUrl);
        const now = deps.now();
        const rows = subscribed.map((x) =>
          newDelivery(x.id, ev.id, ev.type, ev.actionId, payload, now)
        );
        const res = await commitRetrying(() => {
          const op = kv.atomic().check(e).delete(e.key);
          for (const r of rows) putDelivery(op, null, r);
          for (const key of alerted) {
            op.check({ key, versionstamp: null }).set(key, ev.id, {
              expireIn: DELIVERY_RETENTION_MS,
            });
          }
          return op;
        });
        if (res.ok) fanned++;
        progressed = true;
      } catch (err) {
        // One bad event never holds back the others; it is tried again next tick.
        log.error("webhook event not fanned out", {
          eventId: ev.id,
          error: String(err),
        });
      }
    }
    if (!progressed) return fanned;
  }
}

/**
 * A chat hears of an action's first failed instance only: a fleet whose
 * instances all fail would otherwise post one message per instance (and
 * hold the action's own "failed" behind them). Returns the endpoints that
 * get the event and the markers to write with it.
 */
async function withoutRepeatedChatAlerts(
  kv: Deno.Kv,
  ev: WebhookEvent,
  listening: WebhookEndpoint[],
): Promise<{ subscribed: WebhookEndpoint[]; alerted: Deno.KvKey[] }> {
  const chats = ev.type === "target.failed"
    ? listening.filter((x) => x.kind === "slack")
    : [];
  if (!chats.length) return { subscribed: listening, alerted: [] };
  const seen = new Set<string>();
  for (let i = 0; i < chats.length; i += 10) {
    const part = chats.slice(i, i + 10);
    const got = await kv.getMany(
      part.map((x) => keys.webhookChatAlert(x.id, ev.actionId)),
    );
    got.forEach((g, j) => {
      if (g.versionstamp) seen.add(part[j].id);
    });
  }
  return {
    subscribed: listening.filter((x) => !seen.has(x.id)),
    alerted: chats.filter((x) => !seen.has(x.id)).map((x) =>
      keys.webhookChatAlert(x.id, ev.actionId)
    ),
  };
}
