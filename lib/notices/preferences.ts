/**
 * The owner's preferences, applied while a group is claimed: a notice or
 * reminder on a channel the owner turned off is finalized, never sent; a
 * push warning due inside their quiet hours is re-timed to when they end,
 * if that is still an hour or more before the change. Anything that cannot
 * wait goes at once: quiet hours never make a warning late (DESIGN rule 9).
 * Cancellations, moves and done notices are not touched: they go to every
 * channel that carried the warning, whatever the settings.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { type SharedReads, sharedReads } from "../kv/batched_reads.ts";
import { zoneOrUtc } from "../format.ts";
import { isWarning } from "../types.ts";
import type { Notification, Stage, User } from "../types.ts";
import { preferencesOf, type StoredPreferences } from "../owners/settings.ts";
import { quietHoursDeferral } from "../owners/quiet_hours.ts";
import { asHeldForQuietHours, asTurnedOff, putRow } from "./row_status.ts";

/** A row the claim is about to take, with the stage whose time it warns of. */
interface Candidate {
  entry: Deno.KvEntry<Notification>;
  parents: { stage: Deno.KvEntryMaybe<Stage> };
}

/** The claim's counts this step adds to. */
interface Tally {
  processed: number;
  voidedStale: number;
  deferred: number;
}

/** What the action page and the API say of a warning the owner turned off. */
export function turnedOffByOwner(row: Pick<Notification, "channel">): string {
  return `turned off by the owner: they chose not to get warnings by ${
    row.channel === "email" ? "email" : "push"
  }`;
}

/** Notices and reminders may be turned off; a move (rescheduled) always arrives. */
function mayBeTurnedOff(row: Notification): boolean {
  return row.kind === "notice" || row.kind === "reminder";
}

/** A row's finalize or re-time, checked against the row as read. */
interface RowChange {
  entry: Deno.KvEntry<Notification>;
  next: Notification;
  /** Counted when it commits. */
  count: keyof Tally;
}

/** A check and up to three writes per row stay within KV's limits. */
const CHUNK = 50;

/**
 * Commits the changes a chunk at a time; a chunk that loses a check is
 * retried row by row, so one row changed meanwhile (left for the next sweep
 * to judge) never holds back the rest.
 */
async function commitChanges(
  kv: Deno.Kv,
  changes: RowChange[],
  tally: Tally,
): Promise<void> {
  for (let i = 0; i < changes.length; i += CHUNK) {
    const part = changes.slice(i, i + CHUNK);
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const c of part) putRow(op.check(c.entry), c.entry.value, c.next);
      return op;
    }).catch(() => null);
    if (res?.ok) {
      for (const c of part) {
        tally[c.count]++;
        if (c.count === "voidedStale") tally.processed++;
      }
    } else if (part.length > 1) {
      for (const c of part) await commitChanges(kv, [c], tally);
    }
  }
}

/**
 * Returns the candidates still to claim. A row changed meanwhile is left for
 * the next sweep to judge.
 */
export async function applyOwnerPreferences<C extends Candidate>(
  kv: Deno.Kv,
  candidates: C[],
  o: { now: number; tally: Tally; reads?: SharedReads },
): Promise<C[]> {
  const concerned = candidates.filter((c) =>
    c.entry.value.channel !== "webapp" && isWarning(c.entry.value.kind)
  );
  if (!concerned.length) return candidates;
  const reads = o.reads ?? sharedReads(kv);
  const ids = concerned.map((c) => c.entry.value.userId);
  const [stored, users] = await Promise.all([
    reads.byId<StoredPreferences>(ids, keys.userSettings),
    reads.byId<User>(ids, keys.user),
  ]);
  const keep: C[] = [];
  const changes: RowChange[] = [];
  for (const c of candidates) {
    const row = c.entry.value;
    if (row.channel === "webapp" || !isWarning(row.kind)) {
      keep.push(c);
      continue;
    }
    const prefs = preferencesOf(stored.get(row.userId)?.value);
    if (mayBeTurnedOff(row) && !prefs.channels[row.channel]) {
      changes.push({
        entry: c.entry,
        next: asTurnedOff(row, turnedOffByOwner(row), o.now),
        count: "voidedStale",
      });
      continue;
    }
    const changeAt = c.parents.stage.value
      ? Date.parse(c.parents.stage.value.scheduledAt)
      : NaN;
    const until = row.channel === "mobile_push" && Number.isFinite(changeAt)
      ? quietHoursDeferral(
        prefs.quietHours,
        zoneOrUtc(users.get(row.userId)?.value?.timeZone),
        o.now,
        changeAt,
      )
      : null;
    if (until !== null) {
      changes.push({
        entry: c.entry,
        next: asHeldForQuietHours(row, until, o.now),
        count: "deferred",
      });
      continue;
    }
    keep.push(c);
  }
  await commitChanges(kv, changes, o.tally);
  return keep;
}
