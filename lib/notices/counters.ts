/**
 * Counts of an action's notification rows, per kind, channel and state, for
 * the action and for each of its stages: what the action page, the progress
 * API and the actions list show, exact for any number of targets in one
 * range read.
 *
 * They move in the same atomic operation as the rows they count (`putRow`,
 * `addNewRow`, the removals), as KV `sum`s on keys of their own: the claim
 * checks the versionstamps of the action, stage and target records (DESIGN
 * rule 2), so a count kept in them would make every claim of a busy drain
 * lose. A row always counts on the shard its id picks, so each shard holds
 * the true number of its own rows and never goes below zero; readers add
 * the shards up.
 */
import { keys } from "../kv/keys.ts";
import { MAX_MUTATIONS } from "../kv/db.ts";
import { shardOf as shardOfId } from "../kv/shards.ts";
import type { Channel, Notification, NotificationKind } from "../types.ts";
import { CHANNELS } from "../types.ts";

/** Enough keys that the drain's changes spread out; few enough that a read stays one small range. */
export const NOTICE_COUNTER_SHARDS = 4;

/**
 * A row's state as counted. A row held by a claim is still to be sent, so it
 * counts as pending: the claim, the drain's busiest write, then leaves the
 * counts alone. A sent push that reached no device is told apart.
 */
export type CountedState = "pending" | "sent" | "not_delivered" | "failed";

export const COUNTED_STATES: readonly CountedState[] = [
  "pending",
  "sent",
  "not_delivered",
  "failed",
];

export type CountedRow = Pick<
  Notification,
  | "id"
  | "actionId"
  | "stageIndex"
  | "kind"
  | "channel"
  | "status"
  | "detail"
  | "turnedOff"
>;

/** KV writes a new row adds to its operation (its action's count and its stage's). */
export const COUNTER_MUTATIONS_PER_NEW_ROW = 2;
/** KV writes a row's change of state adds (out of one count, into another, for the action and the stage); none for a claim. */
export const COUNTER_MUTATIONS_PER_ROW_CHANGE = 4;
/** KV writes a row's removal adds. */
export const COUNTER_MUTATIONS_PER_REMOVED_ROW = 2;

/** KV's `sum` wraps around at 2^64: adding 2^64 − n takes n away. */
const U64 = 1n << 64n;

/** The push channel says "0 deliveries" when no device took the message (lib/channels/push.ts). */
const NO_DELIVERY = /(^|[^0-9])0 deliveries/;

export function countedState(row: CountedRow): CountedState {
  if (
    row.status === "sent" && row.channel === "mobile_push" &&
    NO_DELIVERY.test(row.detail ?? "")
  ) return "not_delivered";
  // A warning the owner turned off in their settings was not sent: not a failure.
  if (row.status === "failed" && row.turnedOff) return "not_delivered";
  return row.status === "sending" ? "pending" : row.status;
}

/** Which shard a row counts on: fixed by its id, so its every change lands on the same key. */
export function shardOf(rowId: string): number {
  return shardOfId(rowId, NOTICE_COUNTER_SHARDS);
}

/** The action's key and the stage's key a row counts on in its current state. */
export function counterKeysOf(row: CountedRow): [Deno.KvKey, Deno.KvKey] {
  const state = countedState(row);
  const shard = shardOf(row.id);
  return [
    keys.noticeCount(row.actionId, row.kind, row.channel, state, shard),
    keys.stageNoticeCount(
      row.actionId,
      row.stageIndex,
      row.kind,
      row.channel,
      state,
      shard,
    ),
  ];
}

function sameCount(a: CountedRow, b: CountedRow): boolean {
  return a.actionId === b.actionId && a.stageIndex === b.stageIndex &&
    a.kind === b.kind && a.channel === b.channel &&
    countedState(a) === countedState(b);
}

/**
 * Adds to `op` what a row's change does to the counts: `prev` null for a new
 * row, `next` null for a removed one. Nothing when it stays where it was.
 */
export function countRowChange(
  op: Deno.AtomicOperation,
  prev: CountedRow | null,
  next: CountedRow | null,
): Deno.AtomicOperation {
  if (prev && next && sameCount(prev, next)) return op;
  if (prev) { for (const k of counterKeysOf(prev)) addToSum(op, k, -1n); }
  if (next) { for (const k of counterKeysOf(next)) addToSum(op, k, 1n); }
  return op;
}

/** Each operation's changes to the counts, by key, until it commits. */
const sumsOf = new WeakMap<
  Deno.AtomicOperation,
  Map<string, { key: Deno.KvKey; n: bigint }>
>();

/**
 * The rows of one operation mostly move between the same few counts (a
 * group of 48 marked sent: one count down, one up, per shard), so their
 * changes are added up per key and written as one `sum` each when the
 * operation commits: a few mutations per commit instead of four per row.
 */
function addToSum(op: Deno.AtomicOperation, key: Deno.KvKey, n: bigint) {
  let sums = sumsOf.get(op);
  if (!sums) {
    const pending = new Map<string, { key: Deno.KvKey; n: bigint }>();
    sums = pending;
    sumsOf.set(op, pending);
    // Installed on the operation itself: whatever wraps it (a test's proxy)
    // still commits through it; it then commits through a commit installed
    // before it, or the class's own.
    const before = Object.hasOwn(op, "commit") ? op.commit : null;
    op.commit = function (this: Deno.AtomicOperation) {
      for (const { key, n } of pending.values()) {
        const wrapped = ((n % U64) + U64) % U64;
        if (wrapped !== 0n) this.sum(key, wrapped);
      }
      // A second commit of the same operation must not add them again.
      pending.clear();
      if (before) return before.call(this);
      const own = Object.getPrototypeOf(this) as Deno.AtomicOperation;
      return own.commit.call(this);
    };
  }
  const id = JSON.stringify(key);
  const cur = sums.get(id);
  if (cur) cur.n += n;
  else sums.set(id, { key, n });
}

/** One kind of notice on one channel, by state. */
export interface NoticeTally {
  kind: NotificationKind;
  channel: Channel;
  /** Still to be sent: waiting, or held by a sweep's claim. */
  pending: number;
  sent: number;
  notDelivered: number;
  failed: number;
}

const FIELD: Record<CountedState, keyof NoticeTally> = {
  pending: "pending",
  sent: "sent",
  not_delivered: "notDelivered",
  failed: "failed",
};

const KIND_ORDER: readonly NotificationKind[] = [
  "notice",
  "reminder",
  "rescheduled",
  "cancelled",
  "done",
];

/** Reads a sum as a count: shards are never below zero, but a bad value must not read as billions. */
function asCount(total: bigint): number {
  const v = ((total % U64) + U64) % U64;
  return v >= U64 / 2n ? 0 : Number(v);
}

/** Tallies from counter entries whose key ends in kind, channel, state, shard. */
function tallies(entries: Deno.KvEntry<Deno.KvU64>[]): NoticeTally[] {
  const sums = new Map<string, bigint>();
  for (const e of entries) {
    const [kind, channel, state] = e.key.slice(-4) as string[];
    const k = `${kind}\u0000${channel}\u0000${state}`;
    sums.set(k, (sums.get(k) ?? 0n) + e.value.value);
  }
  const out = new Map<string, NoticeTally>();
  for (const [k, total] of sums) {
    const [kind, channel, state] = k.split("\u0000") as [
      NotificationKind,
      Channel,
      CountedState,
    ];
    const id = `${kind}\u0000${channel}`;
    let t = out.get(id);
    if (!t) {
      t = {
        kind,
        channel,
        pending: 0,
        sent: 0,
        notDelivered: 0,
        failed: 0,
      };
      out.set(id, t);
    }
    (t[FIELD[state]] as number) += asCount(total);
  }
  return [...out.values()]
    .filter((t) => t.pending + t.sent + t.notDelivered + t.failed > 0)
    .sort((a, b) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      CHANNELS.indexOf(a.channel) - CHANNELS.indexOf(b.channel)
    );
}

async function listCounters(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<Deno.KvEntry<Deno.KvU64>[]> {
  const out: Deno.KvEntry<Deno.KvU64>[] = [];
  for await (
    const e of kv.list<Deno.KvU64>({ prefix }, { batchSize: 1000 })
  ) {
    if (e.value instanceof Deno.KvU64) out.push(e);
  }
  return out;
}

/** An action's rows per kind and channel (only those that have any), exact, in one range read. */
export async function readNoticeCounts(
  kv: Deno.Kv,
  actionId: string,
): Promise<NoticeTally[]> {
  return tallies(await listCounters(kv, keys.noticeCounts(actionId)));
}

/** The same per stage, by stage index (stages with no rows are absent). */
export async function readStageNoticeCounts(
  kv: Deno.Kv,
  actionId: string,
): Promise<Map<number, NoticeTally[]>> {
  const byStage = new Map<number, Deno.KvEntry<Deno.KvU64>[]>();
  for (const e of await listCounters(kv, keys.stageNoticeCounts(actionId))) {
    const index = e.key[2] as number;
    byStage.set(index, [...(byStage.get(index) ?? []), e]);
  }
  return new Map(
    [...byStage].map(([index, entries]) => [index, tallies(entries)]),
  );
}

/** Every counter key of an action's notices, the action's and its stages'. */
export async function noticeCounterKeys(
  kv: Deno.Kv,
  actionId: string,
): Promise<Deno.KvKey[]> {
  const out: Deno.KvKey[] = [];
  for (
    const prefix of [
      keys.noticeCounts(actionId),
      keys.stageNoticeCounts(actionId),
    ]
  ) {
    for await (const e of kv.list({ prefix }, { batchSize: 1000 })) {
      out.push(e.key);
    }
  }
  return out;
}

/**
 * Removes an action's notice counters: when its rows are all gone (the
 * retention purge), or never became visible (a discarded write).
 */
export async function clearNoticeCounters(
  kv: Deno.Kv,
  actionId: string,
): Promise<void> {
  const all = await noticeCounterKeys(kv, actionId);
  for (let i = 0; i < all.length; i += MAX_MUTATIONS) {
    const op = kv.atomic();
    for (const k of all.slice(i, i + MAX_MUTATIONS)) op.delete(k);
    const res = await op.commit();
    if (!res.ok) throw new Error(`notice counters of ${actionId} not cleared`);
  }
}
