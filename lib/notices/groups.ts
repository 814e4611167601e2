/**
 * Dispatch groups: rows of one channel that go to the provider in one call,
 * under one idempotency key (DESIGN rule 5). The rule, whatever crashes where:
 *
 * 1. A group's members are fixed when it is first sealed, before anything is
 *    sent; a row never joins a second group while it is open.
 * 2. Only the holder of the group's lease sends it, and every send carries
 *    all of its members still open, under the group's id as the key.
 * 3. The provider's answer is stored on the group before any row is marked;
 *    a holder that died after that is finished from the stored answer.
 * 4. A lease that ended without a stored answer hands the open members back:
 *    an email group keeps them and is sent again under the same key (the
 *    provider replays, or — since members only leave — says an earlier send
 *    with more members holds the key: those were delivered then).
 *
 * `putGroup` is the one place that writes a group, and it moves the
 * lease-index key with it in the same atomic operation.
 */
import { keys } from "../kv/keys.ts";
import type { Channel, NoticeGroup } from "../types.ts";

/** At most one provider batch; a group record of this many members and their answers stays well within KV's 64 KiB. */
export const MAX_GROUP_SIZE = 100;

/** Resend keeps idempotency keys for a day; a group outlives every retry of its rows. */
export const GROUP_TTL_MS = 7 * 24 * 3_600_000;

/** Writes `next` in place of `prev` (null: new; `next` null: delete), moving the lease key. */
export function putGroup(
  op: Deno.AtomicOperation,
  prev: NoticeGroup | null,
  next: NoticeGroup | null,
): Deno.AtomicOperation {
  const id = (next ?? prev)!.id;
  const prevLease = prev?.leaseUntil ?? null;
  const nextLease = next?.leaseUntil ?? null;
  if (prevLease !== null && prevLease !== nextLease) {
    op.delete(keys.noticeGroupLease(prevLease, id));
  }
  if (!next) return op.delete(keys.noticeGroup(id));
  op.set(keys.noticeGroup(id), next, { expireIn: GROUP_TTL_MS });
  if (nextLease !== null && prevLease !== nextLease) {
    op.set(keys.noticeGroupLease(nextLease, id), null);
  }
  return op;
}

/** An email row keeps its group until it is final: the group's id is its idempotency key. */
export function keepsMembers(channel: Channel): boolean {
  return channel === "email";
}

export function newGroup(
  id: string,
  channel: Channel,
  claimId: string,
  leaseUntil: number,
  at: number,
): NoticeGroup {
  const when = new Date(at).toISOString();
  return {
    id,
    channel,
    state: "forming",
    members: [],
    claimId,
    leaseUntil,
    sends: 0,
    outcomes: null,
    createdAt: when,
    updatedAt: when,
  };
}

/** A new holder takes a waiting group: forming again, same members, same key. */
export function retaken(
  g: NoticeGroup,
  claimId: string,
  leaseUntil: number,
  at: number,
): NoticeGroup {
  return {
    ...g,
    state: "forming",
    claimId,
    leaseUntil,
    outcomes: null,
    updatedAt: new Date(at).toISOString(),
  };
}

/** No holder: open members wait (pending) to be sent again under the same key. */
export function released(g: NoticeGroup, at: number): NoticeGroup {
  return {
    ...g,
    state: "waiting",
    claimId: null,
    leaseUntil: null,
    outcomes: null,
    updatedAt: new Date(at).toISOString(),
  };
}

/** Is this row held by the group's current claim? */
export function heldBy(
  g: NoticeGroup,
  row: { status: string; groupId: string | null; claimId: string | null },
): boolean {
  return row.status === "sending" && row.groupId === g.id &&
    row.claimId === g.claimId;
}

/** Still to be sent under this group's key: held, or pending for its retry. */
export function openIn(
  g: NoticeGroup,
  row: { status: string; groupId: string | null },
): boolean {
  return row.groupId === g.id &&
    (row.status === "pending" || row.status === "sending");
}
