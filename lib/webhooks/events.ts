/**
 * The events the scheduler reports to webhooks. Each is one KV row, added by
 * the scheduler to the very atomic operation that makes the change it
 * reports, so an event exists exactly when its change does: a failed or
 * retried commit leaves none, a crash after the commit loses none.
 *
 * One row per event, fanned out to the subscribed endpoints at delivery
 * (`deliveries.ts`), rather than a row per endpoint: the scheduler's commits
 * stay one key dearer whatever the number of endpoints (the apply packs 100
 * targets a commit within KV's 1,000 mutations), and they need not read the
 * endpoints first.
 */
import { keys } from "../kv/keys.ts";
import { newId } from "../ids.ts";
import type { ActionCounters, ScheduledAction, Target } from "../types.ts";
import type { WebhookEventType } from "./schemas.ts";

export interface WebhookEvent {
  /** UUIDv7: events of one action sort in the order they happened. */
  id: string;
  type: WebhookEventType;
  at: string;
  actionId: string;
  action: {
    id: string;
    actionType: ScheduledAction["actionType"];
    status: ScheduledAction["status"];
    imageTag: string | null;
    scheduledAt: string | null;
    reason: string | null;
  };
  /** Known at the change (schedule, finish); otherwise read when fanned out. */
  counts: ActionCounters | null;
  target?: {
    id: string;
    instanceId: string;
    sourceImageTag: string;
    targetImageTag: string;
    error: string | null;
  };
  from?: string;
  to?: string;
  /** Rollout events: the wave (1-based) the event is about. */
  wave?: number;
}

/** An event about `action` as it is after the change. */
export function actionEvent(
  type: WebhookEventType,
  action: ScheduledAction,
  at: number,
  extra: {
    scheduledAt?: string | null;
    counts?: ActionCounters | null;
    target?: Target;
    from?: string;
    to?: string;
    wave?: number;
  } = {},
): WebhookEvent {
  const t = extra.target;
  return {
    id: newId(),
    type,
    at: new Date(at).toISOString(),
    actionId: action.id,
    action: {
      id: action.id,
      actionType: action.actionType,
      status: action.status,
      imageTag: action.imageTag,
      scheduledAt: extra.scheduledAt ?? null,
      reason: action.reason,
    },
    counts: extra.counts ?? null,
    ...(t
      ? {
        target: {
          id: t.id,
          instanceId: t.instanceId,
          sourceImageTag: t.sourceImageTag,
          targetImageTag: t.targetImageTag,
          error: t.error,
        },
      }
      : {}),
    ...(extra.from ? { from: extra.from } : {}),
    ...(extra.to ? { to: extra.to } : {}),
    ...(extra.wave ? { wave: extra.wave } : {}),
  };
}

/** KV mutations one event adds to the change's commit. */
export const MUTATIONS_PER_EVENT = 1;

/** Adds the event to the change's own atomic operation. */
export function addWebhookEvent(
  op: Deno.AtomicOperation,
  event: WebhookEvent,
): Deno.AtomicOperation {
  return op.set(keys.webhookEvent(event.id), event);
}
