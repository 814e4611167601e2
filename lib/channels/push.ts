/**
 * The mobile push channel: one message per registered device, stale tokens
 * dropped as Expo reports them, receipts read about 15 minutes later.
 *
 * Push has no idempotency key (DESIGN rule 5). A request that failed in
 * flight may have been delivered, and its retry sends again; so only whole
 * failures are retried, and an item that reached any device counts as sent.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { removePushTokens } from "../kv/users.ts";
import type {
  ChannelDispatcher,
  DispatchOutcome,
  NoticeItem,
  PushMessage,
  PushTicket,
  PushTransport,
} from "./types.ts";
import { pushEvent, pushTexts } from "./push_texts.ts";
import { REQUEST_FAILED } from "./expo.ts";
import { bundleItems } from "./bundle.ts";

export const RECEIPT_DELAY_MS = 15 * 60_000;
/** Expo keeps receipts for about a day; a receipt key lives as long. */
const RECEIPT_TTL_MS = 24 * 3_600_000;
const MAX_RECEIPT_TRIES = 3;

export interface PendingReceipt {
  userId: string;
  token: string;
  tries: number;
}

/** Expo errors worth another try; anything else is the message's own fault. */
const TRANSIENT_ERRORS = new Set([REQUEST_FAILED, "MessageRateExceeded"]);
const STALE_TOKEN = "DeviceNotRegistered";

export function pushMessagesFor(item: NoticeItem): PushMessage[] {
  const { title, body } = pushTexts(item);
  const data = {
    type: "scheduled-action" as const,
    event: pushEvent(item.action.actionType, item.notification.kind),
    instanceId: item.notification.instanceId,
  };
  return [...new Set(item.user.pushTokens)].map((to) => ({
    to,
    title,
    body,
    data,
    sound: "default" as const,
    priority: "high" as const,
  }));
}

/** One push about several of an owner's bots: "3 of your bots will restart soon". */
export function pushMessagesForBundle(items: NoticeItem[]): PushMessage[] {
  if (items.length === 1) return pushMessagesFor(items[0]);
  const [first] = items;
  return pushMessagesFor({
    ...first,
    instance: {
      ...(first.instance ?? {
        id: first.notification.instanceId,
        ownerId: first.user.id,
        imageTag: first.target.sourceImageTag,
        pinnedImageTag: null,
        status: "running",
        lastRestartAt: null,
        createdAt: first.target.updatedAt,
        updatedAt: first.target.updatedAt,
      }),
      name: `${items.length} of your bots`,
    },
  });
}

function outcomeOf(tickets: PushTicket[]): DispatchOutcome {
  const ok = tickets.filter((t) => t.status === "ok").length;
  if (ok > 0) {
    return { status: "sent", detail: `${ok} of ${tickets.length} devices` };
  }
  const errors = tickets.filter((t) => t.status === "error");
  if (errors.every((t) => t.details?.error === STALE_TOKEN)) {
    return {
      status: "sent",
      detail: "0 deliveries: every device token was stale and is removed",
    };
  }
  const first = errors.find((t) => t.details?.error !== STALE_TOKEN)!;
  const code = first.details?.error;
  if (!code || !TRANSIENT_ERRORS.has(code)) {
    return { status: "failed", error: `Expo: ${first.message}` };
  }
  // A request that failed in flight may still have reached the device.
  return code === REQUEST_FAILED
    ? { status: "retry", error: first.message, uncertain: true }
    : { status: "retry", error: first.message };
}

export function createPushDispatcher(
  deps: { kv: Deno.Kv; transport: PushTransport; now: () => number },
): ChannelDispatcher {
  return {
    channel: "mobile_push",
    maxGroupSize: 100,
    async dispatch(items) {
      // One push per owner and message (bundle.ts): the first row of a
      // bundle carries it, the others share its outcome.
      const bundles = bundleItems(items);
      const leaderOf = new Map<number, number>();
      const perItem: PushMessage[][] = items.map(() => []);
      const aboutOf: string[][] = items.map(() => []);
      for (const b of bundles) {
        for (const i of b.indexes) leaderOf.set(i, b.indexes[0]);
        perItem[b.indexes[0]] = pushMessagesForBundle(b.items);
        aboutOf[b.indexes[0]] = b.items.map((it) => it.notification.instanceId);
      }
      const messages = perItem.flat();
      // Each message tells of every bot of its bundle, so the outbox can
      // lead from each of those rows to the one push that carried it.
      const about = perItem.flatMap((m, i) => m.map(() => aboutOf[i]));
      const tickets = messages.length
        ? await deps.transport.send(messages, about)
        : [];
      const stale = new Map<string, string[]>();
      const receipts: [string, PendingReceipt][] = [];
      let at = 0;
      const outcomes = items.map((item, i): DispatchOutcome => {
        const mine = tickets.slice(at, at + perItem[i].length);
        const sentTo = perItem[i];
        at += sentTo.length;
        if (sentTo.length === 0) {
          return {
            status: "sent",
            detail: "no registered devices: 0 deliveries",
          };
        }
        mine.forEach((t, j) => {
          if (t.status === "ok") {
            receipts.push([t.id, {
              userId: item.user.id,
              token: sentTo[j].to,
              tries: 0,
            }]);
          } else if (t.details?.error === STALE_TOKEN) {
            stale.set(item.user.id, [
              ...(stale.get(item.user.id) ?? []),
              sentTo[j].to,
            ]);
          }
        });
        return outcomeOf(mine);
      });
      for (const [i, leader] of leaderOf) {
        if (i !== leader) outcomes[i] = outcomes[leader];
      }
      await Promise.all([
        ...[...stale].map(([userId, tokens]) =>
          removePushTokens(deps.kv, userId, tokens)
        ),
        saveReceipts(deps.kv, deps.now() + RECEIPT_DELAY_MS, receipts),
      ]);
      return outcomes;
    },
  };
}

async function saveReceipts(
  kv: Deno.Kv,
  checkAfterMs: number,
  receipts: [string, PendingReceipt][],
): Promise<void> {
  for (let i = 0; i < receipts.length; i += 500) {
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const [ticketId, r] of receipts.slice(i, i + 500)) {
        op.set(keys.pushReceipt(checkAfterMs, ticketId), r, {
          expireIn: RECEIPT_TTL_MS,
        });
      }
      return op;
    });
  }
}

/**
 * The cron job: reads the receipts of tickets sent at least 15 minutes ago,
 * removes the tokens Expo says are no longer registered, and looks again
 * later for receipts Expo does not have yet.
 */
export async function checkPushReceipts(
  deps: {
    kv: Deno.Kv;
    transport: PushTransport;
    now: () => number;
    limit?: number;
  },
): Promise<{ checked: number; removed: number }> {
  const { kv, transport } = deps;
  if (!transport.getReceipts) return { checked: 0, removed: 0 };
  const now = deps.now();
  const due: Deno.KvEntry<PendingReceipt>[] = [];
  for await (
    const e of kv.list<PendingReceipt>({
      prefix: keys.pushReceipts(),
      end: keys.pushReceipt(now + 1, ""),
    }, { limit: deps.limit ?? 3000 })
  ) due.push(e);
  if (!due.length) return { checked: 0, removed: 0 };
  const ticketId = (e: Deno.KvEntry<PendingReceipt>) => e.key[2] as string;
  const receipts = await transport.getReceipts(due.map(ticketId));
  const stale = new Map<string, string[]>();
  let checked = 0;
  const later: [string, PendingReceipt][] = [];
  for (const e of due) {
    const r = receipts[ticketId(e)];
    if (!r) {
      if (e.value.tries + 1 < MAX_RECEIPT_TRIES) {
        later.push([ticketId(e), { ...e.value, tries: e.value.tries + 1 }]);
      }
      continue;
    }
    checked++;
    if (r.status === "error" && r.details?.error === STALE_TOKEN) {
      stale.set(e.value.userId, [
        ...(stale.get(e.value.userId) ?? []),
        e.value.token,
      ]);
    }
  }
  let removed = 0;
  for (const [userId, tokens] of stale) {
    const before =
      (await kv.get<{ pushTokens: string[] }>(keys.user(userId))).value;
    const after = await removePushTokens(kv, userId, tokens);
    if (before && after) {
      removed += before.pushTokens.length - after.pushTokens.length;
    }
  }
  for (let i = 0; i < due.length; i += 500) {
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const e of due.slice(i, i + 500)) op.delete(e.key);
      return op;
    });
  }
  await saveReceipts(kv, now + RECEIPT_DELAY_MS, later);
  return { checked, removed };
}
