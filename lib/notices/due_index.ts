/**
 * Reading the notice due index (keys.notificationDue), which lies in
 * `DUE_SHARDS` parts picked by the row's owner, each in due order.
 * Concurrent sweeps take whole parts under a short lease (`DueShards`), so
 * they never read the same rows, never lose claims to one another, and
 * never split an owner's message between them; a sweep reads the parts it
 * holds merged, oldest first (`DueReader`). Any sweep takes a part nobody
 * holds, at its start and between pages, so no due row waits behind a part
 * nobody serves. The index's keys are still moved only by `putRow`.
 */
import { keys } from "../kv/keys.ts";
import { DUE_SHARDS } from "../kv/shards.ts";
import { commitRetrying } from "../kv/db.ts";
import { newId } from "../ids.ts";

export interface DueKey {
  key: Deno.KvKey;
  dueAt: number;
  id: string;
}

/** Reads a due key: `[…, shard, dueAt, id]`, or `[…, dueAt, id]` as written before the parts. */
export function parseDueKey(key: Deno.KvKey): DueKey {
  return key.length === 4
    ? { key, dueAt: key[2] as number, id: key[3] as string }
    : { key, dueAt: key[1] as number, id: key[2] as string };
}

/** A part of the index: a shard, or the keys written before there were parts. */
export type DuePart = number | "legacy";

export const ALL_DUE_SHARDS: readonly number[] = Array.from(
  { length: DUE_SHARDS },
  (_, i) => i,
);

/** A part's keys due at or before `until`. */
export function partSelector(
  part: DuePart,
  until: number,
): Deno.KvListSelector {
  if (part === "legacy") {
    // Older keys hold the due time where the shard now is: after every shard.
    return {
      start: [...keys.notificationsDue(), DUE_SHARDS],
      end: [...keys.notificationsDue(), until + 1],
    };
  }
  return {
    prefix: keys.notificationsDueShard(part),
    end: [...keys.notificationsDueShard(part), until + 1],
  };
}

const byDue = (a: DueKey, b: DueKey) =>
  a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const EVERY_PART: readonly DuePart[] = [...ALL_DUE_SHARDS, "legacy"];

/** The first `limit` keys due at or before `until`, over every part, oldest first. */
export async function firstDueKeys(
  kv: Deno.Kv,
  until: number,
  limit: number,
): Promise<DueKey[]> {
  const lists = await Promise.all(EVERY_PART.map(async (part) => {
    const out: DueKey[] = [];
    for await (const e of kv.list(partSelector(part, until), { limit })) {
      out.push(parseDueKey(e.key));
    }
    return out;
  }));
  return lists.flat().sort(byDue).slice(0, limit);
}

/** Keys due at or before `until`, counted up to `cap`. */
export async function countDueKeys(
  kv: Deno.Kv,
  until: number,
  cap: number,
): Promise<number> {
  let n = 0;
  for (const part of EVERY_PART) {
    if (n >= cap) break;
    for await (
      const _ of kv.list(partSelector(part, until), { limit: cap - n })
    ) n++;
  }
  return n;
}

/** The parts a sweep reads, merged in due order, each key read once (and each row once). */
export class DueReader {
  private last: DueKey | null = null;
  private readonly parts = new Map<DuePart, {
    cursor: string | undefined;
    buffer: DueKey[];
    at: number;
    done: boolean;
  }>();

  constructor(
    private readonly kv: Deno.Kv,
    private readonly until: number,
    private readonly pageSize: number,
  ) {}

  add(part: DuePart): void {
    if (!this.parts.has(part)) {
      this.parts.set(part, {
        cursor: undefined,
        buffer: [],
        at: 0,
        done: false,
      });
    }
  }

  drop(part: DuePart): void {
    this.parts.delete(part);
  }

  private async fill(): Promise<void> {
    const empty = [...this.parts.entries()].filter(([, p]) =>
      !p.done && p.at >= p.buffer.length
    );
    await Promise.all(empty.map(async ([part, p]) => {
      const iter = this.kv.list(partSelector(part, this.until), {
        limit: this.pageSize,
        cursor: p.cursor,
      });
      const got: DueKey[] = [];
      for await (const e of iter) got.push(parseDueKey(e.key));
      p.buffer = got;
      p.at = 0;
      p.cursor = iter.cursor;
      p.done = got.length < this.pageSize;
    }));
  }

  /**
   * The next keys in due order over the parts held (empty when none is
   * left). A part read to the end of its buffer is read on before any key
   * after its last one is taken, so the order holds across parts.
   */
  async nextPage(): Promise<DueKey[]> {
    const page: DueKey[] = [];
    while (page.length < this.pageSize) {
      if (
        [...this.parts.values()].some((p) => !p.done && p.at >= p.buffer.length)
      ) await this.fill();
      let best: { buffer: DueKey[]; at: number } | null = null;
      for (const p of this.parts.values()) {
        if (
          p.at < p.buffer.length &&
          (!best || byDue(p.buffer[p.at], best.buffer[best.at]) < 0)
        ) best = p;
      }
      if (!best) break;
      const next = best.buffer[best.at++];
      // A row keyed in two parts (where its id placed it, in a database
      // from before owners placed them, and where its owner does) comes up
      // twice in a row: it is read once; the spare key goes once the row
      // has moved on.
      if (
        this.last && this.last.id === next.id &&
        this.last.dueAt === next.dueAt
      ) continue;
      this.last = next;
      page.push(next);
    }
    return page;
  }
}

interface ShardLease {
  sweepId: string;
  /** Epoch ms. */
  until: number;
}

/**
 * The parts one sweep holds. `refresh` renews its leases once a third of
 * them has passed, and takes any part nobody holds (or whose holder's lease
 * ended): what it lost and what it gained go to the reader.
 */
export class DueShards {
  readonly sweepId = newId();
  private readonly held = new Map<number, Deno.KvEntry<ShardLease>>();
  private renewedAt = -Infinity;

  constructor(
    private readonly kv: Deno.Kv,
    private readonly leaseMs: number,
  ) {}

  get parts(): number[] {
    return [...this.held.keys()];
  }

  async refresh(
    now: number,
  ): Promise<{ gained: number[]; lost: number[] }> {
    const gained: number[] = [];
    const lost: number[] = [];
    const renew = now - this.renewedAt >= this.leaseMs / 3;
    const entries = await this.kv.getMany<ShardLease[]>(
      ALL_DUE_SHARDS.map((s) => keys.dueShardLease(s)),
    );
    await Promise.all(entries.map(async (e, shard) => {
      const mine = this.held.get(shard);
      if (!mine) return;
      if (e.versionstamp !== mine.versionstamp) {
        // Taken over after our lease ran out: the other sweep reads it now.
        this.held.delete(shard);
        lost.push(shard);
      } else if (renew && !(await this.put(e, shard, now))) {
        this.held.delete(shard);
        lost.push(shard);
      }
    }));
    // Free parts are taken one at a time, in an order of this sweep's own:
    // sweeps starting together take turns, and so share them.
    const free = ALL_DUE_SHARDS.filter((shard) =>
      !this.held.has(shard) && !lost.includes(shard) &&
      (entries[shard].value === null || entries[shard].value!.until <= now)
    ).sort(() => Math.random() - 0.5);
    for (const shard of free) {
      if (await this.put(entries[shard], shard, now)) gained.push(shard);
    }
    if (renew) this.renewedAt = now;
    return { gained, lost };
  }

  private async put(
    entry: Deno.KvEntryMaybe<ShardLease>,
    shard: number,
    now: number,
  ): Promise<boolean> {
    const lease: ShardLease = {
      sweepId: this.sweepId,
      until: now + this.leaseMs,
    };
    const res = await commitRetrying(() =>
      this.kv.atomic().check(entry).set(keys.dueShardLease(shard), lease)
    );
    if (!res.ok) return false;
    this.held.set(shard, {
      key: keys.dueShardLease(shard),
      value: lease,
      versionstamp: res.versionstamp,
    });
    return true;
  }

  /** Gives every part back (a lease another sweep took meanwhile is left alone). */
  async release(): Promise<void> {
    await Promise.all(
      [...this.held.values()].map((e) =>
        commitRetrying(() => this.kv.atomic().check(e).delete(e.key))
      ),
    );
    this.held.clear();
  }
}
