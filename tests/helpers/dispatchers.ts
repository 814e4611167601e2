/**
 * In-memory channel dispatchers for tests: they record every call and do
 * what they are told per item — succeed, fail, ask for a retry, throw (the
 * whole group) or hang (never answer, ignoring the abort signal).
 */
import type {
  ChannelDispatcher,
  Dispatchers,
  DispatchOutcome,
  NoticeItem,
} from "@/lib/channels/types.ts";
import type { Channel } from "@/lib/types.ts";

export type Behaviour = DispatchOutcome | "throw" | "hang";

export interface DispatchCall {
  groupId: string;
  ids: string[];
}

export class RecordingDispatcher implements ChannelDispatcher {
  readonly calls: DispatchCall[] = [];
  /** Every item handed over, in order (a row dispatched twice appears twice). */
  readonly items: NoticeItem[] = [];
  behaviour: (item: NoticeItem) => Behaviour = () => ({ status: "sent" });
  /** Runs before answering; lets a test act while a dispatch is in flight. */
  beforeAnswer: ((items: NoticeItem[]) => Promise<void>) | null = null;

  constructor(readonly channel: Channel, readonly maxGroupSize = 100) {}

  async dispatch(
    items: NoticeItem[],
    opts: { groupId: string; signal: AbortSignal },
  ): Promise<DispatchOutcome[]> {
    this.calls.push({
      groupId: opts.groupId,
      ids: items.map((i) => i.notification.id),
    });
    this.items.push(...items);
    if (this.beforeAnswer) await this.beforeAnswer(items);
    const planned = items.map((i) => this.behaviour(i));
    if (planned.includes("hang")) return new Promise(() => {});
    if (planned.includes("throw")) throw new Error("dispatcher exploded");
    return planned as DispatchOutcome[];
  }

  /** Ids of the rows handed over, in order. */
  dispatchedIds(): string[] {
    return this.items.map((i) => i.notification.id);
  }
}

export type RecordingDispatchers = Dispatchers & {
  email: RecordingDispatcher;
  webapp: RecordingDispatcher;
  mobile_push: RecordingDispatcher;
};

export function recordingDispatchers(
  sizes: Partial<Record<Channel, number>> = {},
): RecordingDispatchers {
  return {
    email: new RecordingDispatcher("email", sizes.email ?? 100),
    webapp: new RecordingDispatcher("webapp", sizes.webapp ?? 100),
    mobile_push: new RecordingDispatcher(
      "mobile_push",
      sizes.mobile_push ?? 100,
    ),
  };
}

/** Every row id dispatched on any channel, in call order per channel. */
export function allDispatchedIds(d: RecordingDispatchers): string[] {
  return [
    ...d.email.dispatchedIds(),
    ...d.webapp.dispatchedIds(),
    ...d.mobile_push.dispatchedIds(),
  ];
}
