/**
 * Claiming a dispatch group (pending → sending). Each row is claimed in an
 * atomic operation that checks the row and, for notices, its target, stage
 * and action (DESIGN rule 2), within KV's 100-check limit; the group record
 * is written in the same operations, and sealed once its members are held.
 * Rows that must not go out are finalized on the way (`verdictFor`).
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying, MAX_CHECKS } from "../kv/db.ts";
import {
  getManyChunked,
  type SharedReads,
  sharedReads,
} from "../kv/batched_reads.ts";
import { newId } from "../ids.ts";
import {
  actionWriteState,
  type ParentEntries,
  readParents,
  userRecordMissing,
  type Verdict,
  verdictFor,
} from "./parents.ts";
import { asSending, asSentByClaim, putRow } from "./row_status.ts";
import { commitFinalFailures, type FinalFailure } from "./finalize.ts";
import { handBack } from "./hand_back.ts";
import { applyOwnerPreferences } from "./preferences.ts";
import { heldBy, newGroup, openIn, putGroup, retaken } from "./groups.ts";
import { isWarning } from "../types.ts";
import type { Channel, NoticeGroup, Notification, User } from "../types.ts";
import { recordClaimsLost, recordNoticeRows } from "../operations/telemetry.ts";

const CLAIM_ROUNDS = 3;

export interface ClaimCandidate {
  entry: Deno.KvEntry<Notification>;
  parents: ParentEntries;
}

export interface ClaimedRow {
  /** The row as claimed, with the versionstamp the claim wrote. */
  entry: Deno.KvEntry<Notification>;
  parents: ParentEntries;
}

/** A sealed group this sweep holds: it may send exactly these rows, under the group's id. */
export interface HeldGroup {
  group: Deno.KvEntry<NoticeGroup>;
  rows: ClaimedRow[];
}

export interface GroupPlan {
  channel: Channel;
  /** A waiting group taken again with its open members, or null for a new group. */
  group: Deno.KvEntry<NoticeGroup> | null;
  rows: Deno.KvEntry<Notification>[];
}

export interface ClaimTally {
  /** Rows whose claim another sweep (or a cancel, or the apply) won first. */
  claimsLost: number;
  processed: number;
  failed: number;
  voidedStale: number;
  deferred: number;
}

export interface ClaimOptions {
  now: number;
  leaseMs: number;
  tally: ClaimTally;
  /** The page's reads, shared by its groups: the first round judges with them. */
  reads?: SharedReads;
}

/** The versioned keys a claim must check: the row, and for notices its target, stage and action (DESIGN rule 2). */
function checksFor(c: ClaimCandidate): Deno.AtomicCheck[] {
  const checks: Deno.AtomicCheck[] = [c.entry];
  if (isWarning(c.entry.value.kind)) {
    checks.push(c.parents.target, c.parents.stage, c.parents.action);
  }
  return checks;
}

const checkId = (c: Deno.AtomicCheck) => c.key.join("\u0000");

/** The checks of one claim commit, each key once. */
function claimChecks(part: ClaimCandidate[]): Deno.AtomicCheck[] {
  const checks = new Map<string, Deno.AtomicCheck>();
  for (const c of part) {
    for (const k of checksFor(c)) checks.set(checkId(k), k);
  }
  return [...checks.values()];
}

/** A claim commit another writer beat: its rows are judged again. */
function claimLost(
  part: ClaimCandidate[],
  lost: ClaimCandidate[],
  o: ClaimOptions,
): void {
  recordClaimsLost(part.length);
  lost.push(...part);
  o.tally.claimsLost += part.length;
}

/** Splits candidates into commits within the check limit, one check kept for the group record. */
function chunkClaims(candidates: ClaimCandidate[]): ClaimCandidate[][] {
  const chunks: ClaimCandidate[][] = [];
  let chunk: ClaimCandidate[] = [];
  let seen = new Set<string>();
  for (const c of candidates) {
    const ids = checksFor(c).map(checkId);
    const fresh = ids.filter((id) => !seen.has(id)).length;
    if (chunk.length && seen.size + fresh > MAX_CHECKS - 1) {
      chunks.push(chunk);
      chunk = [];
      seen = new Set();
    }
    for (const id of ids) seen.add(id);
    chunk.push(c);
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

/**
 * Claims one group: a new one from due rows, or a waiting one with all its
 * open members. Returns the sealed group, or null when nothing is held (every
 * row was finalized or taken by another sweep, or a waiting group could not
 * be held whole and was handed back unsent).
 */
export async function claimGroup(
  kv: Deno.Kv,
  plan: GroupPlan,
  o: ClaimOptions,
): Promise<HeldGroup | null> {
  const claimId = newId();
  const leaseUntil = o.now + o.leaseMs;
  let group: Deno.KvEntry<NoticeGroup> | null = null;
  if (plan.group) {
    const next = retaken(plan.group.value, claimId, leaseUntil, o.now);
    const res = await commitRetrying(() =>
      putGroup(kv.atomic().check(plan.group!), plan.group!.value, next)
    ).catch(() => null);
    // Another sweep took it first.
    if (!res?.ok) {
      recordClaimsLost(plan.rows.length);
      return null;
    }
    group = {
      key: plan.group.key,
      value: next,
      versionstamp: res.versionstamp,
    };
  }
  const groupId = plan.group?.value.id ?? newId();
  const claimed: ClaimedRow[] = [];
  let rows = plan.rows;
  // A new group is sealed by its last claim commit when nothing was lost on
  // the way (one commit fewer); otherwise by a commit of its own below.
  let sealedInline = false;
  for (let round = 0; round < CLAIM_ROUNDS && rows.length; round++) {
    const judged = await judge(kv, rows, o, round === 0);
    // A waiting group's members were fixed when it was first sealed (rule 5).
    const candidates = plan.group ? judged : await applyOwnerPreferences(
      kv,
      judged,
      { now: o.now, tally: o.tally, reads: round === 0 ? o.reads : undefined },
    );
    const lost: ClaimCandidate[] = [];
    const chunks = chunkClaims(candidates);
    for (const [n, part] of chunks.entries()) {
      const taken = part.map((c) =>
        asSending(c.entry.value, { groupId, claimId }, o.now)
      );
      const base = group?.value ??
        newGroup(groupId, plan.channel, claimId, leaseUntil, o.now);
      const sealNow: boolean = !plan.group && !sealedInline && !lost.length &&
        round === 0 && n === chunks.length - 1;
      const nextGroup: NoticeGroup = plan.group ? base : {
        ...base,
        members: [...base.members, ...taken.map((r) => r.id)],
        ...(sealNow ? { state: "sealed" as const, sends: base.sends + 1 } : {}),
      };
      const checks = claimChecks(part);
      // A commit that keeps failing ("database is locked" past its retries) is a lost claim: nothing moved.
      const res = await commitRetrying(() => {
        const op = kv.atomic();
        for (const k of checks) op.check(k);
        op.check(
          group ?? { key: keys.noticeGroup(groupId), versionstamp: null },
        );
        part.forEach((c, i) => putRow(op, c.entry.value, taken[i]));
        if (!plan.group) putGroup(op, group?.value ?? null, nextGroup);
        return op;
      }).catch(() => null);
      if (!res?.ok) {
        claimLost(part, lost, o);
        continue;
      }
      if (!plan.group) {
        group = {
          key: keys.noticeGroup(groupId),
          value: nextGroup,
          versionstamp: res.versionstamp,
        };
        sealedInline ||= sealNow;
      }
      part.forEach((c, i) =>
        claimed.push({
          entry: {
            key: c.entry.key,
            value: taken[i],
            versionstamp: res.versionstamp,
          },
          parents: c.parents,
        })
      );
    }
    if (!lost.length) break;
    // Re-read what was lost: rows another sweep took are no longer pending and drop out.
    rows = await pendingRows(kv, lost.map((c) => c.entry.value.id), groupId);
  }
  if (!group) return null;

  if (plan.group) {
    // Every send carries all open members (groups.ts, rule 2): a member
    // still open but not held means the group goes back, unsent.
    const members = await getManyChunked<Notification>(
      kv,
      group.value.members.map((id) => keys.notification(id)),
    );
    const open = members.filter((m) =>
      m.value && openIn(group!.value, m.value)
    );
    if (open.some((m) => !heldBy(group!.value, m.value!))) {
      await handBack(kv, group, { uncertain: false, now: o.now });
      return null;
    }
    if (!claimed.length) {
      // Nothing open is left: the group is done.
      await commitRetrying(() =>
        putGroup(kv.atomic().check(group!), group!.value, null)
      );
      return null;
    }
  }

  if (sealedInline) return { group, rows: claimed };
  const sealed: NoticeGroup = {
    ...group.value,
    state: "sealed",
    sends: group.value.sends + 1,
    updatedAt: new Date(o.now).toISOString(),
  };
  const res = await commitRetrying(() =>
    putGroup(kv.atomic().check(group!), group!.value, sealed)
  ).catch(() => null);
  // Not sealed: nothing is sent; recovery hands the rows back when the lease ends.
  if (!res?.ok) return null;
  return {
    group: { key: group.key, value: sealed, versionstamp: res.versionstamp },
    rows: claimed,
  };
}

/**
 * Claims rows of a channel delivered by the claim itself (`deliveredByClaim`):
 * each commit checks the rows and their parents like any claim and writes
 * them straight to sent, so there is no group, no send and no second write.
 * A row whose user record is gone fails instead, as email and push rows do
 * when their items are built (DESIGN rule 3). Returns how many were delivered.
 */
export async function claimDelivered(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  detail: string,
  o: ClaimOptions,
): Promise<number> {
  let delivered = 0;
  for (let round = 0; round < CLAIM_ROUNDS && rows.length; round++) {
    const judged = await judge(kv, rows, o, round === 0);
    const candidates = await failOwnerless(kv, judged, o, round === 0);
    const lost: ClaimCandidate[] = [];
    for (const part of chunkClaims(candidates)) {
      const checks = claimChecks(part);
      const res = await commitRetrying(() => {
        const op = kv.atomic();
        for (const k of checks) op.check(k);
        for (const c of part) {
          putRow(
            op,
            c.entry.value,
            asSentByClaim(c.entry.value, detail, o.now),
          );
        }
        return op;
      }).catch(() => null);
      if (!res?.ok) {
        claimLost(part, lost, o);
        continue;
      }
      delivered += part.length;
    }
    if (!lost.length) break;
    // Re-read what was lost: rows another sweep took are no longer pending and drop out.
    rows = await pendingRows(kv, lost.map((c) => c.entry.value.id), null);
  }
  return delivered;
}

/**
 * Fails the candidates whose user record is gone and returns the others.
 * Owners are read through the page's shared reads on the first round, so a
 * page whose email or push groups read the same owners reads each once;
 * existence is all that is asked, so the claim's commit does not check the
 * user record (its hot fields, devices, would make claims fail for nothing).
 */
async function failOwnerless(
  kv: Deno.Kv,
  candidates: ClaimCandidate[],
  o: ClaimOptions,
  firstRound: boolean,
): Promise<ClaimCandidate[]> {
  if (!candidates.length) return candidates;
  const reads = firstRound && o.reads ? o.reads : sharedReads(kv);
  const users = await reads.byId<User>(
    candidates.map((c) => c.entry.value.userId),
    keys.user,
  );
  const owned: ClaimCandidate[] = [];
  const ownerless: FinalFailure[] = [];
  for (const c of candidates) {
    const userId = c.entry.value.userId;
    if (users.get(userId)?.value) owned.push(c);
    else {
      ownerless.push({
        entry: c.entry,
        error: userRecordMissing(userId),
        followUp: false,
      });
    }
  }
  if (ownerless.length) {
    const failed = await commitFinalFailures(kv, ownerless, o.now);
    recordNoticeRows(candidates[0].entry.value.channel, "failed", failed);
    o.tally.failed += failed;
    o.tally.processed += failed;
  }
  return owned;
}

/**
 * Judges rows against their parents: finalizes those that must not go out,
 * counts those left for later, returns those to claim.
 */
async function judge(
  kv: Deno.Kv,
  rows: Deno.KvEntry<Notification>[],
  o: ClaimOptions,
  firstRound: boolean,
): Promise<ClaimCandidate[]> {
  // The page's shared reads serve a claim, whose commit checks every parent
  // it read; a row to finalize or leave is judged on fresh reads.
  const judged = new Map<string, { p: ParentEntries; verdict: Verdict }>();
  const judgeWith = async (
    some: Deno.KvEntry<Notification>[],
    reads?: SharedReads,
  ) => {
    const parents = await readParents(kv, some.map((r) => r.value), reads);
    for (const e of some) {
      const p = parents.get(e.value.id)!;
      const verdict = verdictFor(e.value, p, o.now);
      if (!reads || verdict.kind === "claim") {
        judged.set(e.value.id, { p, verdict });
      }
    }
  };
  if (firstRound && o.reads) await judgeWith(rows, o.reads);
  const unsure = rows.filter((e) => !judged.has(e.value.id));
  if (unsure.length) await judgeWith(unsure);
  const candidates: ClaimCandidate[] = [];
  const voided: FinalFailure[] = [];
  const orphaned: Deno.KvEntry<Notification>[] = [];
  for (const entry of rows) {
    const { p, verdict } = judged.get(entry.value.id)!;
    if (verdict.kind === "claim") candidates.push({ entry, parents: p });
    else if (verdict.kind === "void") {
      voided.push({ entry, error: verdict.error, followUp: verdict.followUp });
    } else if (verdict.kind === "orphan") orphaned.push(entry);
    else o.tally.deferred++;
  }
  const voidedNow = await commitFinalFailures(kv, voided, o.now);
  o.tally.voidedStale += voidedNow;
  const abandoned = await abandonedOrphans(kv, orphaned, o.now);
  o.tally.deferred += orphaned.length - abandoned.length;
  const orphans = await commitFinalFailures(kv, abandoned, o.now);
  // One claim is one channel's rows.
  const channel = rows[0]?.value.channel;
  if (channel) {
    recordNoticeRows(channel, "voided", voidedNow);
    recordNoticeRows(channel, "failed", orphans);
  }
  o.tally.failed += orphans;
  o.tally.processed += orphans;
  return candidates;
}

/** Orphan candidates whose schedule write the scheduler counts as abandoned. */
async function abandonedOrphans(
  kv: Deno.Kv,
  orphans: Deno.KvEntry<Notification>[],
  now: number,
): Promise<FinalFailure[]> {
  const states = new Map<string, string>();
  for (const actionId of new Set(orphans.map((o) => o.value.actionId))) {
    states.set(actionId, await actionWriteState(kv, actionId, now));
  }
  return orphans.filter((o) => states.get(o.value.actionId) === "abandoned")
    .map((entry) => ({
      entry,
      error:
        `action ${entry.value.actionId} was never fully written (orphaned row)`,
      followUp: false,
    }));
}

/** Rows still pending, and free to join this group (no other group, or this one). */
async function pendingRows(
  kv: Deno.Kv,
  ids: string[],
  groupId: string | null,
): Promise<Deno.KvEntry<Notification>[]> {
  const got = await getManyChunked<Notification>(
    kv,
    ids.map((id) => keys.notification(id)),
  );
  return got.filter((e): e is Deno.KvEntry<Notification> =>
    e.value?.status === "pending" &&
    (e.value.groupId === null || e.value.groupId === groupId)
  );
}
