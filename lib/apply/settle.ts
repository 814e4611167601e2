/**
 * Recording what the apply did: each claimed target ends (applied, skipped,
 * failed) or goes back to pending for another try, with its done notices, in
 * commits checked against the claim — so a target that recovery took back
 * meanwhile is left to its next claim, never recorded twice.
 */
import { commitRetrying } from "../kv/db.ts";
import {
  addNewRow,
  buildDoneRows,
  CHECKS_PER_NEW_ROW,
  MUTATIONS_PER_NEW_ROW,
} from "../notices/rows.ts";
import type { Notification, ScheduledAction, Target } from "../types.ts";
import type { ApplyOutcome } from "./decide.ts";
import { packCommits } from "../kv/commits.ts";
import {
  asEnded,
  asPendingAgain,
  MUTATIONS_PER_TARGET_CHANGE,
  putTarget,
} from "./target_status.ts";
import {
  actionEvent,
  addWebhookEvent,
  MUTATIONS_PER_EVENT,
  type WebhookEvent,
} from "../webhooks/events.ts";

export interface Settling {
  /** The target as claimed (its versionstamp is the claim's). */
  target: Deno.KvEntry<Target>;
  action: ScheduledAction;
  end: ApplyOutcome;
}

export type Settled = ApplyOutcome["status"] | "lost";

interface Planned {
  item: Settling;
  next: Target;
  rows: Notification[];
  /** `target.failed`, written with the failure. */
  event: WebhookEvent | null;
}

/** Records these outcomes, a few commits for all; returns each target's status in order. */
export async function settleTargets(
  kv: Deno.Kv,
  items: Settling[],
  now: number,
): Promise<Settled[]> {
  const planned: Planned[] = items.map((item) => {
    const t = item.target.value;
    const next = item.end.status === "retry"
      ? asPendingAgain(t, item.end.error, now)
      : asEnded(t, item.end, now);
    const rows = item.end.status === "retry"
      ? []
      : buildDoneRows(item.action, next, now);
    const event = next.status === "failed"
      ? actionEvent("target.failed", item.action, now, { target: next })
      : null;
    return { item, next, rows, event };
  });
  const outcome = new Map<Planned, Settled>();
  const commits = packCommits(planned, (p) => ({
    checks: 1 + CHECKS_PER_NEW_ROW * p.rows.length,
    mutations: MUTATIONS_PER_TARGET_CHANGE +
      MUTATIONS_PER_NEW_ROW * p.rows.length +
      (p.event ? MUTATIONS_PER_EVENT : 0),
  }));
  for (const part of commits) {
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const p of part) add(op, p);
      return op;
    });
    if (res.ok) {
      for (const p of part) outcome.set(p, p.item.end.status);
      continue;
    }
    // One of them was taken back by recovery: record the others one by one.
    for (const p of part) {
      const one = await commitRetrying(() => add(kv.atomic(), p));
      outcome.set(p, one.ok ? p.item.end.status : "lost");
    }
  }
  return planned.map((p) => outcome.get(p)!);
}

/**
 * Records each outcome as soon as it is known: outcomes that arrive while a
 * commit is in flight go together in the next one, so a slow controller call
 * never holds back the record of the others (a crash then would apply them
 * twice), and a fleet's outcomes still take a few commits.
 */
export function settler(kv: Deno.Kv, now: () => number) {
  let queue: {
    item: Settling;
    done: (s: Settled) => void;
    fail: (err: unknown) => void;
  }[] = [];
  let flushing = false;
  const flush = async () => {
    flushing = true;
    try {
      while (queue.length) {
        const taken = queue;
        queue = [];
        try {
          const out = await settleTargets(kv, taken.map((q) => q.item), now());
          taken.forEach((q, i) => q.done(out[i]));
        } catch (err) {
          for (const q of taken) q.fail(err);
        }
      }
    } finally {
      flushing = false;
    }
  };
  return {
    record(item: Settling): Promise<Settled> {
      const p = new Promise<Settled>((done, fail) =>
        queue.push({ item, done, fail })
      );
      if (!flushing) void flush();
      return p;
    },
  };
}

function add(op: Deno.AtomicOperation, p: Planned): Deno.AtomicOperation {
  op.check(p.item.target);
  putTarget(op, p.item.target.value, p.next);
  for (const row of p.rows) addNewRow(op, row);
  if (p.event) addWebhookEvent(op, p.event);
  return op;
}
