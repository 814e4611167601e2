/**
 * Email batch membership, fixed at claim time (DESIGN rule 5).
 *
 * The email channel sends a group of rows in one Resend batch call and turns
 * the group id into the Resend `Idempotency-Key`. So before anything is sent,
 * each group of newly claimed email rows gets a `batchId`, stored on every
 * member and at `keys.emailBatch(batchId)` (the member ids). A row that comes
 * back — a transient failure, or recovery after a crash mid-send — is
 * re-dispatched with its whole original batch under the same group id, and
 * Resend replays the first response instead of sending twice. If the batch
 * can no longer be rebuilt whole (a member was sent, failed or cancelled
 * meanwhile), the rest get a new batch: the provider would refuse the old key
 * with a different payload, and those members are then at the mercy of the
 * first attempt having really failed.
 */
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { newId } from "../ids.ts";
import { getManyChunked } from "../kv/read.ts";
import type { ClaimedRow } from "./claim.ts";
import type { Notification } from "../types.ts";

/** Resend keeps idempotency keys for a day; retries and recovery finish well within a week. */
const BATCH_TTL_MS = 7 * 24 * 3_600_000;
/** One check per member must fit in an atomic operation. */
const MAX_BATCH = 100;

export async function fixEmailBatches(
  kv: Deno.Kv,
  claimed: ClaimedRow[],
  maxGroupSize: number,
): Promise<{ ready: ClaimedRow[]; groupOf: Map<string, string> }> {
  const ready: ClaimedRow[] = [];
  const groupOf = new Map<string, string>();
  const byBatch = new Map<string, ClaimedRow[]>();
  const unbatched: ClaimedRow[] = [];
  for (const c of claimed) {
    const row = c.entry.value;
    if (row.channel !== "email") ready.push(c);
    else if (row.batchId) {
      byBatch.set(row.batchId, [...byBatch.get(row.batchId) ?? [], c]);
    } else unbatched.push(c);
  }

  const batchIds = [...byBatch.keys()];
  const stored = await getManyChunked<string[]>(
    kv,
    batchIds.map((id) => keys.emailBatch(id)),
  );
  batchIds.forEach((batchId, i) => {
    const members = byBatch.get(batchId)!;
    const all = stored[i].value ?? [];
    const whole = all.length === members.length &&
      members.every((m) => all.includes(m.entry.value.id));
    if (!whole) {
      unbatched.push(...members);
      return;
    }
    for (const m of members) groupOf.set(m.entry.value.id, batchId);
    ready.push(...members);
  });

  const size = Math.max(1, Math.min(maxGroupSize, MAX_BATCH));
  for (let i = 0; i < unbatched.length; i += size) {
    const part = unbatched.slice(i, i + size);
    const batchId = newId();
    const rows: Notification[] = part.map((c) => ({
      ...c.entry.value,
      batchId,
    }));
    const res = await commitRetrying(() => {
      const op = kv.atomic();
      part.forEach((c, j) => op.check(c.entry).set(c.entry.key, rows[j]));
      return op.set(keys.emailBatch(batchId), rows.map((r) => r.id), {
        expireIn: BATCH_TTL_MS,
      });
    });
    // A lost commit leaves the rows in `sending`, unsent; recovery retries them.
    if (!res.ok) continue;
    part.forEach((c, j) => {
      groupOf.set(rows[j].id, batchId);
      ready.push({
        ...c,
        entry: { ...c.entry, value: rows[j], versionstamp: res.versionstamp },
      });
    });
  }
  return { ready, groupOf };
}
