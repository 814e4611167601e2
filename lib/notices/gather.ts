/**
 * The sweep's reading side: the rows behind a page of due keys (damaged rows
 * failed on their own, stale keys removed), split into email groups waiting
 * for their retry (taken whole, under the same key) and fresh rows, which a
 * `Gatherer` collects per channel into full groups — an owner's rows kept
 * together (one message per owner, bundle.ts).
 */
import { putDamagedRowFailed } from "./row_status.ts";
import { bundleCut } from "../channels/bundle.ts";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import {
  getManyById,
  getManyChunked,
  getManyNearby,
} from "../kv/batched_reads.ts";
import { rowProblem } from "./rows.ts";
import { parseDueKey } from "./due_index.ts";
import { MAX_GROUP_SIZE, openIn } from "./groups.ts";
import type { GroupPlan } from "./claim.ts";
import type { Dispatchers } from "../channels/types.ts";
import type {
  Channel,
  NoticeGroup,
  Notification,
  ScheduledAction,
} from "../types.ts";
import { recordNoticeRows } from "../operations/telemetry.ts";
import type { Tally } from "./sweep_deps.ts";

/** Fresh rows per channel, cut into groups as they fill. */
export class Gatherer {
  private readonly lists = new Map<Channel, Deno.KvEntry<Notification>[]>();

  constructor(private readonly dispatchers: Dispatchers) {}

  private sizeOf(c: Channel): number {
    return Math.max(
      1,
      Math.min(MAX_GROUP_SIZE, this.dispatchers[c].maxGroupSize),
    );
  }

  /** Adds a row; the group it completes, if any. */
  add(row: Deno.KvEntry<Notification>): GroupPlan | null {
    const channel = row.value.channel;
    const list = this.lists.get(channel) ?? [];
    list.push(row);
    this.lists.set(channel, list);
    const size = this.sizeOf(channel);
    if (list.length < size) return null;
    // An owner's rows stay in one group: one message per owner.
    const cut = bundleCut(list.map((r) => r.value), size);
    return { channel, group: null, rows: list.splice(0, cut) };
  }

  /** The groups not full yet, at the end of the sweep. */
  rest(): GroupPlan[] {
    return [...this.lists].flatMap(([channel, rows]) =>
      rows.length ? [{ channel, group: null, rows }] : []
    );
  }
}

/**
 * Rows due now: a row waiting in an email group brings the whole group (all
 * its open members, under the same key); the rest are fresh, to be gathered
 * into new groups.
 */
export async function planGroups(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  tally: Tally,
): Promise<{ retakes: GroupPlan[]; fresh: Deno.KvEntry<Notification>[] }> {
  const groups = await getManyById<NoticeGroup>(
    kv,
    rows.flatMap((r) => r.value.groupId ? [r.value.groupId] : []),
    keys.noticeGroup,
  );
  const retakes: GroupPlan[] = [];
  const fresh: Deno.KvEntry<Notification>[] = [];
  const taken = new Set<string>();
  for (const r of rows) {
    const g = r.value.groupId ? groups.get(r.value.groupId) : undefined;
    if (!g?.value || !openIn(g.value, r.value)) {
      fresh.push(r);
      continue;
    }
    if (g.value.state !== "waiting") {
      // Held by another sweep, or its lease ended and recovery will hand it back.
      tally.deferred++;
      continue;
    }
    if (taken.has(g.value.id)) continue;
    taken.add(g.value.id);
    const members = await getManyChunked<Notification>(
      kv,
      g.value.members.map((id) => keys.notification(id)),
    );
    retakes.push({
      channel: g.value.channel,
      group: g as Deno.KvEntry<NoticeGroup>,
      rows: members.filter((m): m is Deno.KvEntry<Notification> =>
        m.value?.status === "pending" && m.value.groupId === g.value!.id
      ),
    });
  }
  return { retakes, fresh };
}

/**
 * Reads the rows behind due keys and keeps those pending and due. A row that
 * cannot be parsed is failed on its own (DESIGN rule 7); keys that match no
 * pending row are debris, removed under a check of the row they point at.
 */
export async function readDueRows(
  kv: Deno.Kv,
  dueKeys: Deno.KvKey[],
  tickAt: number,
  tally: Tally,
  now: number,
): Promise<Deno.KvEntry<Notification>[]> {
  // Rows written together sit side by side: one range read finds most.
  const due = dueKeys.map(parseDueKey);
  const entries = await getManyNearby<Notification>(
    kv,
    keys.notifications(),
    due.map((k) => k.id),
  );
  const out: Deno.KvEntry<Notification>[] = [];
  const debris: { key: Deno.KvKey; row: Deno.AtomicCheck }[] = [];
  for (const [i, e] of entries.entries()) {
    const dueKey = dueKeys[i];
    if (e.value !== null) {
      const problem = rowProblem(e.value);
      // A damaged row already failed is only debris now (its due key goes below).
      if (problem && (e.value as { status?: unknown }).status !== "failed") {
        tally.processed++;
        if (await failDamagedRow(kv, e, problem, now, dueKey)) tally.failed++;
        continue;
      }
      const row = e.value;
      if (
        !problem && row.status === "pending" && row.dueAt <= tickAt &&
        due[i].dueAt === row.dueAt
      ) {
        out.push(e as Deno.KvEntry<Notification>);
        continue;
      }
    }
    debris.push({ key: dueKey, row: e });
  }
  for (let i = 0; i < debris.length; i += 100) {
    const part = debris.slice(i, i + 100);
    // Checked so a key just re-added for a live row is never dropped.
    await commitRetrying(() => {
      const op = kv.atomic();
      for (const d of part) op.check(d.row).delete(d.key);
      return op;
    });
  }
  return out;
}

/**
 * Leaves out the rows of large actions still being written (`preparing`):
 * the claim would defer them too (parents.ts), but a sweep running during
 * such a write meets its rows by the thousand, so one read per action, kept
 * for the sweep (`preparing` is asked once per action), walks past them.
 */
export async function leaveUnwritten(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  preparing: Map<string, boolean>,
  tally: Tally,
): Promise<Deno.KvEntry<Notification>[]> {
  const unknown = [...new Set(rows.map((r) => r.value.actionId))].filter((id) =>
    !preparing.has(id)
  );
  const actions = await getManyById<ScheduledAction>(kv, unknown, keys.action);
  for (const id of unknown) {
    preparing.set(id, actions.get(id)?.value?.status === "preparing");
  }
  const out = rows.filter((r) => !preparing.get(r.value.actionId));
  tally.deferred += rows.length - out.length;
  return out;
}

/** A row that cannot be parsed is failed where it stands; its due key goes with it. */
async function failDamagedRow(
  kv: Deno.Kv,
  entry: Deno.KvEntryMaybe<Notification>,
  problem: string,
  now: number,
  /** The due key the row was found by: the damage may be in `dueAt` itself. */
  dueKey: Deno.KvKey,
): Promise<boolean> {
  const id = entry.key[1] as string;
  const raw = entry.value as unknown;
  const res = await commitRetrying(() =>
    putDamagedRowFailed(kv.atomic().check(entry), id, raw, problem, now)
      .delete(dueKey)
  );
  if (res.ok) recordNoticeRows(damagedChannel(raw), "failed", 1);
  return res.ok;
}

/** A damaged row's channel, when it still names one. */
function damagedChannel(raw: unknown): string {
  const c = (raw as { channel?: unknown } | null)?.channel;
  return c === "email" || c === "webapp" || c === "mobile_push" ? c : "unknown";
}
