/**
 * Claiming targets for the apply: pending → running, in commits that check
 * each target, its action and its warning rows, so a cancel or a notice claim
 * racing it makes one side lose cleanly. A target whose notice is being
 * delivered right now is not claimed: the notice goes out before the change,
 * never after, so the apply waits for that group's lease.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyById } from "../kv/batched_reads.ts";
import { readRowsOfTargets } from "../notices/rows.ts";
import { heldBy } from "../notices/groups.ts";
import { isWarning } from "../types.ts";
import type {
  NoticeGroup,
  Notification,
  ScheduledAction,
  Stage,
  Target,
} from "../types.ts";
import { packCommits } from "../kv/commits.ts";
import {
  asRunning,
  MUTATIONS_PER_TARGET_CHANGE,
  putTarget,
} from "./target_status.ts";

export interface Claimed {
  target: Deno.KvEntry<Target>;
  action: ScheduledAction;
}

export interface ClaimResult {
  claimed: Claimed[];
  /** Targets whose notice is in flight, with the end of its lease (epoch ms). */
  waiting: { id: string; until: number }[];
}

interface Candidate {
  target: Deno.KvEntry<Target>;
  notices: Deno.KvEntry<Notification>[];
}

/**
 * Claims these pending targets of a running action together, a few commits
 * for all of them; a commit that loses a race falls back to claiming its
 * targets one by one from fresh reads. Targets no longer pending, or whose
 * action stopped running, are left out. `parent.action` is the action as
 * last read; a lost commit reads it afresh for the batches after it.
 */
export async function claimTargets(
  kv: Deno.Kv,
  parent: {
    action: Deno.KvEntry<ScheduledAction>;
    /** The stage being applied: a target an owner moved out of it meanwhile is left out. */
    stage?: Deno.KvEntry<Stage>;
  },
  targets: Deno.KvEntry<Target>[],
  now: number,
): Promise<ClaimResult> {
  const out: ClaimResult = { claimed: [], waiting: [] };
  const candidates = await withNotices(kv, targets);
  const free: Candidate[] = [];
  const leases = await leaseEnds(kv, candidates);
  for (const c of candidates) {
    const until = leases.get(c.target.value.id) ?? 0;
    if (until > now) out.waiting.push({ id: c.target.value.id, until });
    else free.push(c);
  }
  const commits = packCommits(
    free,
    (c) => ({
      checks: 1 + c.notices.length,
      mutations: MUTATIONS_PER_TARGET_CHANGE,
    }),
    { checks: 1, mutations: 0 },
  );
  for (const part of commits) {
    const running = part.map((c) => asRunning(c.target.value, now));
    const action = parent.action;
    const res = await commitRetrying(() => {
      const op = kv.atomic().check(action);
      part.forEach((c, i) => {
        op.check(c.target, ...c.notices);
        putTarget(op, c.target.value, running[i]);
      });
      return op;
    });
    if (res.ok) {
      part.forEach((c, i) =>
        out.claimed.push({
          target: {
            ...c.target,
            value: running[i],
            versionstamp: res.versionstamp,
          },
          action: action.value,
        })
      );
      continue;
    }
    const fresh = await kv.get<ScheduledAction>(keys.action(action.value.id));
    if (fresh.value) parent.action = fresh as Deno.KvEntry<ScheduledAction>;
    for (const c of part) {
      const one = await claimTarget(
        kv,
        c.target.value.id,
        parent.stage?.value.index ?? c.target.value.stageIndex,
        now,
      );
      if (one && "wait" in one) {
        out.waiting.push({ id: c.target.value.id, until: one.wait });
      } else if (one) out.claimed.push(one);
    }
  }
  return out;
}

/** One target from fresh reads; null when it is not claimable any more. */
async function claimTarget(
  kv: Deno.Kv,
  targetId: string,
  stageIndex: number,
  now: number,
): Promise<Claimed | { wait: number } | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const t = await kv.get<Target>(keys.target(targetId));
    if (t.value?.status !== "pending") return null;
    // Postponed by its owner to another stage since the batch was read.
    if (t.value.stageIndex !== stageIndex) return null;
    const a = await kv.get<ScheduledAction>(keys.action(t.value.actionId));
    if (a.value?.status !== "running") return null;
    const [c] = await withNotices(kv, [t as Deno.KvEntry<Target>]);
    const until = (await leaseEnds(kv, [c])).get(targetId) ?? 0;
    if (until > now) return { wait: until };
    const running = asRunning(t.value, now);
    const res = await commitRetrying(() =>
      putTarget(
        kv.atomic().check(t, a, ...c.notices),
        t.value!,
        running,
      )
    );
    if (res.ok) {
      return {
        target: { ...c.target, value: running, versionstamp: res.versionstamp },
        action: a.value,
      };
    }
  }
  return null;
}

/** Each target with its warning rows (the rows the claim checks). */
async function withNotices(
  kv: Deno.Kv,
  targets: Deno.KvEntry<Target>[],
): Promise<Candidate[]> {
  const rows = await readRowsOfTargets(kv, targets.map((t) => t.value.id));
  return targets.map((target) => ({
    target,
    notices: rows.get(target.value.id)!.filter((e) => isWarning(e.value.kind)),
  }));
}

/** For each target with a warning held in `sending`, when the last lease holding one ends. */
async function leaseEnds(
  kv: Deno.Kv,
  candidates: Candidate[],
): Promise<Map<string, number>> {
  const rows = candidates.flatMap((c) => c.notices.map((e) => e.value));
  const groups = await getManyById<NoticeGroup>(
    kv,
    new Set(
      rows.flatMap((r) =>
        r.status === "sending" && r.groupId ? [r.groupId] : []
      ),
    ),
    keys.noticeGroup,
  );
  const ends = new Map<string, number>();
  if (groups.size === 0) return ends;
  for (const r of rows) {
    const g = r.groupId ? groups.get(r.groupId)?.value : null;
    if (g && heldBy(g, r)) {
      ends.set(
        r.targetId,
        Math.max(ends.get(r.targetId) ?? 0, g.leaseUntil ?? 0),
      );
    }
  }
  return ends;
}
