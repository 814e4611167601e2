/**
 * Sending held groups: each group is checked against its lease (renewed when
 * short, never past its earliest action time), its late notices are dropped,
 * the rest go to the channel's dispatcher under a timeout, and the answer is
 * stored on the group before anything is marked (groups.ts, rule 3).
 */
import { commitRetrying } from "../kv/db.ts";
import { isTooLate, tooLate } from "./parents.ts";
import { putGroup } from "./groups.ts";
import type {
  ChannelDispatcher,
  Dispatchers,
  DispatchOutcome,
  NoticeItem,
} from "../channels/types.ts";
import type { HeldGroup } from "./claim.ts";
import type { NoticeGroup } from "../types.ts";

export interface DispatchOptions {
  timeoutMs: number;
  leaseMs: number;
  now: () => number;
}

/** A group after its send: the outcome of each held row, or null when the lease was lost (nothing to mark). */
export interface SentGroup {
  held: HeldGroup;
  outcomes: Map<string, DispatchOutcome> | null;
}

/** Stored outcomes are clipped so a group of 100 stays well within KV's 64 KiB value limit. */
const STORED_ERROR_CHARS = 300;

function clipped(o: DispatchOutcome): DispatchOutcome {
  if (o.status === "sent") {
    return o.detail && o.detail.length > STORED_ERROR_CHARS
      ? { ...o, detail: o.detail.slice(0, STORED_ERROR_CHARS) }
      : o;
  }
  return o.error.length > STORED_ERROR_CHARS
    ? { ...o, error: `${o.error.slice(0, STORED_ERROR_CHARS - 1)}…` }
    : o;
}

async function callDispatcher(
  dispatcher: ChannelDispatcher,
  items: NoticeItem[],
  group: NoticeGroup,
  timeoutMs: number,
  timeLeftMs: number | undefined,
): Promise<DispatchOutcome[]> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      abort.abort(new DOMException("dispatch timed out", "TimeoutError"));
      resolve("timeout");
    }, timeoutMs);
  });
  try {
    // The race also covers a dispatcher that ignores the abort signal.
    const result = await Promise.race([
      dispatcher.dispatch(items, {
        groupId: group.id,
        claimId: group.claimId!,
        resend: group.sends > 1,
        signal: abort.signal,
        ...(timeLeftMs === undefined ? {} : { timeLeftMs }),
      }),
      timedOut,
    ]);
    if (result === "timeout") {
      return items.map(() => ({
        status: "retry",
        uncertain: true,
        error: `${group.channel} dispatch timed out after ${timeoutMs} ms`,
      }));
    }
    return items.map((_, i) =>
      result[i] ?? {
        status: "retry",
        error: `${group.channel} dispatcher returned no outcome for this item`,
      }
    );
  } catch (err) {
    // The dispatcher contract: a throw fails the whole group as transient.
    const message = err instanceof Error ? err.message : String(err);
    return items.map(() => ({
      status: "retry",
      uncertain: true,
      error: `${group.channel} dispatch threw: ${message}`,
    }));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Keeps the lease long enough for one dispatch (its timeout plus a margin),
 * so no send is in flight once the lease ends. An apply waits for the lease
 * it sees, and a member whose action time has come is never sent, so the
 * apply never follows a warning. Returns the group entry to go on with, or
 * null when the lease was lost.
 */
async function keepLease(
  kv: Deno.Kv,
  held: HeldGroup,
  o: DispatchOptions,
): Promise<Deno.KvEntry<NoticeGroup> | null> {
  const g = held.group.value;
  const now = o.now();
  const needed = o.timeoutMs + Math.min(5_000, o.leaseMs / 4);
  if (g.leaseUntil! - now >= needed) return held.group;
  const next: NoticeGroup = {
    ...g,
    leaseUntil: now + Math.max(o.leaseMs, needed),
  };
  const res = await commitRetrying(() =>
    putGroup(kv.atomic().check(held.group), g, next)
  ).catch(() => null);
  if (!res?.ok) return null;
  return { key: held.group.key, value: next, versionstamp: res.versionstamp };
}

/** Sends one held group and stores the answer; null outcomes when the lease was lost. */
export async function sendGroup(
  kv: Deno.Kv,
  dispatchers: Dispatchers,
  held: HeldGroup,
  itemOf: Map<string, NoticeItem | { error: string }>,
  o: DispatchOptions,
): Promise<SentGroup> {
  const group = await keepLease(kv, held, o);
  // Past its lease (a stalled process): whoever holds the group now sends it.
  if (!group) return { held, outcomes: null };
  held.group = group;
  const outcomes = new Map<string, DispatchOutcome>();
  const items: NoticeItem[] = [];
  const now = o.now();
  for (const r of held.rows) {
    const row = r.entry.value;
    const item = itemOf.get(row.id);
    if (isTooLate(row, r.parents.stage.value, now)) {
      outcomes.set(row.id, {
        status: "failed",
        error: tooLate(r.parents.action.value!.actionType),
      });
    } else if (!item || "error" in item) {
      outcomes.set(row.id, {
        status: "failed",
        error: item?.error ?? "row could not be prepared",
      });
    } else items.push(item);
  }
  if (items.length) {
    // The earliest action time among the notices sent: no send starts after it.
    const times = items.filter((i) => i.notification.kind === "notice")
      .map((i) => Date.parse(i.stage.scheduledAt) - now);
    const results = await callDispatcher(
      dispatchers[group.value.channel],
      items,
      group.value,
      o.timeoutMs,
      times.length ? Math.min(...times) : undefined,
    );
    items.forEach((item, i) =>
      outcomes.set(item.notification.id, clipped(results[i]))
    );
  }
  const stored: NoticeGroup = {
    ...group.value,
    outcomes: Object.fromEntries(outcomes),
  };
  const res = await commitRetrying(() =>
    putGroup(kv.atomic().check(group), group.value, stored)
  ).catch(() => null);
  // The lease was taken over during the send: the new holder settles it.
  if (!res?.ok) return { held, outcomes: null };
  held.group = {
    key: group.key,
    value: stored,
    versionstamp: res.versionstamp,
  };
  return { held, outcomes };
}
