/**
 * An action's targets by outcome: a page of the failed ones among 100,000
 * reads those keys only. `putTarget` keeps the keys; an action written
 * before they existed gets them once, from its targets, the first time a
 * reader needs them.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { getManyChunked } from "../kv/batched_reads.ts";
import { listTargetIdsOfAction } from "../kv/actions.ts";
import { indexOutcome } from "./target_status.ts";
import type { Target, TargetOutcome } from "../types.ts";

/** Targets read and indexed a commit at a time (KV checks at most 100 keys a commit). */
const BACKFILL_PAGE = 100;
/** A backfill page whose targets keep changing under it is retried this often before giving up. */
const BACKFILL_TRIES = 5;

/**
 * Gives every target of the action its outcome key, unless the action is
 * marked as indexed already (one read then). Each commit checks the targets
 * it indexes, so a status change racing it (which moves the key itself)
 * makes that page read again; the marker goes last, so a backfill cut
 * short is redone whole by the next reader, harmlessly.
 */
export async function ensureOutcomeIndex(
  kv: Deno.Kv,
  actionId: string,
): Promise<void> {
  const marker = keys.targetOutcomesIndexed(actionId);
  if ((await kv.get(marker)).versionstamp !== null) return;
  // The page and its refreshes asking at once share one backfill.
  const inFlight = building.get(kv) ?? new Map<string, Promise<void>>();
  building.set(kv, inFlight);
  let work = inFlight.get(actionId);
  if (!work) {
    work = backfill(kv, actionId).finally(() => inFlight.delete(actionId));
    inFlight.set(actionId, work);
  }
  await work;
}

const building = new WeakMap<Deno.Kv, Map<string, Promise<void>>>();

async function backfill(kv: Deno.Kv, actionId: string): Promise<void> {
  const marker = keys.targetOutcomesIndexed(actionId);
  let cursor: string | undefined;
  do {
    const page = await listTargetIdsOfAction(kv, actionId, {
      cursor,
      limit: BACKFILL_PAGE,
    });
    await indexPage(kv, page.ids);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  await commitRetrying(() => kv.atomic().set(marker, true));
}

async function indexPage(kv: Deno.Kv, ids: string[]) {
  for (let attempt = 1;; attempt++) {
    const entries = await getManyChunked<Target>(
      kv,
      ids.map((id) => keys.target(id)),
    );
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      for (const e of entries) {
        op.check(e);
        if (e.value) indexOutcome(op, e.value);
      }
      return op;
    });
    if (res.ok) return;
    if (attempt === BACKFILL_TRIES) {
      throw new Error(
        `the outcome index of ${ids.length} targets could not be written: they kept changing`,
      );
    }
  }
}

/** One page of the ids of an action's targets with this outcome, in id order. */
export async function listTargetIdsByOutcome(
  kv: Deno.Kv,
  actionId: string,
  outcome: TargetOutcome,
  opts: { cursor?: string; limit: number },
): Promise<{ ids: string[]; cursor: string | null }> {
  const iter = kv.list({ prefix: keys.targetsByOutcome(actionId, outcome) }, {
    cursor: opts.cursor || undefined,
    limit: opts.limit,
  });
  const ids: string[] = [];
  for await (const e of iter) ids.push(e.key[3] as string);
  const more = ids.length === opts.limit;
  return { ids, cursor: more && iter.cursor ? iter.cursor : null };
}

/**
 * How many of an action's targets are running: the counters count a target
 * once it ends, and the running ones are few (an apply claims 100 at a time),
 * so their keys are counted.
 */
export async function countRunningTargets(
  kv: Deno.Kv,
  actionId: string,
): Promise<number> {
  let n = 0;
  for await (
    const _ of kv.list({ prefix: keys.targetsByOutcome(actionId, "running") })
  ) n++;
  return n;
}
