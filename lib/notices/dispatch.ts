/**
 * Hands claimed rows to the channel dispatchers: a timeout per dispatch, a
 * bounded number in flight, and exactly one outcome per row whatever the
 * dispatcher does (returns short, throws, or hangs).
 */
import type {
  ChannelDispatcher,
  Dispatchers,
  DispatchOutcome,
  NoticeItem,
} from "../channels/types.ts";
import type { Channel } from "../types.ts";

export interface DispatchGroup {
  channel: Channel;
  /** Passed to the dispatcher; for email, the batch id (the Resend idempotency key). */
  groupId: string;
  items: NoticeItem[];
}

export interface DispatchOptions {
  timeoutMs: number;
  concurrency: number;
}

async function dispatchOne(
  dispatcher: ChannelDispatcher,
  group: DispatchGroup,
  timeoutMs: number,
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
      dispatcher.dispatch(group.items, {
        groupId: group.groupId,
        signal: abort.signal,
      }),
      timedOut,
    ]);
    if (result === "timeout") {
      return group.items.map(() => ({
        status: "retry",
        uncertain: true,
        error: `${group.channel} dispatch timed out after ${timeoutMs} ms`,
      }));
    }
    return group.items.map((_, i) =>
      result[i] ?? {
        status: "retry",
        error: `${group.channel} dispatcher returned no outcome for this item`,
      }
    );
  } catch (err) {
    // The dispatcher contract: a throw fails the whole group as transient.
    const message = err instanceof Error ? err.message : String(err);
    return group.items.map(() => ({
      status: "retry",
      uncertain: true,
      error: `${group.channel} dispatch threw: ${message}`,
    }));
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every group, at most `concurrency` at once; outcomes are keyed by notification id. */
export async function runDispatches(
  dispatchers: Dispatchers,
  groups: DispatchGroup[],
  opts: DispatchOptions,
): Promise<Map<string, DispatchOutcome>> {
  const outcomes = new Map<string, DispatchOutcome>();
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++];
      const results = await dispatchOne(
        dispatchers[group.channel],
        group,
        opts.timeoutMs,
      );
      group.items.forEach((item, i) =>
        outcomes.set(item.notification.id, results[i])
      );
    }
  };
  await Promise.all(
    Array.from(
      { length: Math.max(1, Math.min(opts.concurrency, groups.length)) },
      worker,
    ),
  );
  return outcomes;
}
