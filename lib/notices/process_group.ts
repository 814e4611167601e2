/** One dispatch group's run: claim it, build its notices, send it, mark it. */
import { claimDelivered, claimGroup, type GroupPlan } from "./claim.ts";
import { recordSettled } from "../operations/telemetry.ts";
import { buildItems } from "./items.ts";
import { sendGroup } from "./dispatch.ts";
import { settleGroup } from "./mark.ts";
import type { SharedReads } from "../kv/batched_reads.ts";
import type { NoticeItem } from "../channels/types.ts";
import {
  DEFAULT_LEASE_MS,
  type SweepDeps,
  type SweepOptions,
  type Tally,
} from "./sweep_deps.ts";

export async function processGroup(
  deps: SweepDeps,
  opts: SweepOptions,
  plan: GroupPlan,
  tally: Tally,
  reads: SharedReads,
): Promise<void> {
  const { kv } = deps;
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const claim = { now: deps.now(), leaseMs, tally, reads };
  const byClaim = deps.dispatchers[plan.channel]?.deliveredByClaim;
  if (byClaim && !plan.group) {
    const sent = await claimDelivered(kv, plan.rows, byClaim.detail, claim);
    tally.processed += sent;
    tally.sent += sent;
    recordSettled(plan.channel, { sent, failed: 0, retried: 0 });
    return;
  }
  const held = await claimGroup(kv, plan, claim);
  if (!held) return;
  tally.processed += held.rows.length;
  const { items, failures } = await buildItems(kv, held.rows, reads);
  const itemOf = new Map<string, NoticeItem | { error: string }>([
    ...items.map((i) => [i.notification.id, i] as const),
    ...failures.map((f) => [f.id, { error: f.error }] as const),
  ]);
  const { outcomes } = await sendGroup(kv, deps.dispatchers, held, itemOf, {
    timeoutMs: Math.min(opts.dispatchTimeoutMs ?? 10_000, leaseMs / 2),
    leaseMs,
    now: deps.now,
  });
  if (!outcomes) {
    tally.unmarked += held.rows.length;
    return;
  }
  const counts = await settleGroup(
    kv,
    held.group,
    held.rows.map((r) => ({
      entry: r.entry,
      outcome: outcomes.get(r.entry.value.id)!,
      parents: { target: r.parents.target, action: r.parents.action },
    })),
    deps.now(),
    deps.log,
  );
  tally.sent += counts.sent;
  tally.failed += counts.failed;
  tally.retried += counts.retried;
  tally.unmarked += counts.unmarked;
}
