/**
 * Spreading one record type's keys over a few shards, picked by the record's
 * id: the same record always lands on the same shard.
 */

/** A small, stable hash of an id (not for secrets). */
export function shardOf(id: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) {
    h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  }
  return (h >>> 0) % shards;
}

/**
 * Parts of the notice due index (keys.notificationDue): concurrent sweeps
 * each take whole parts, so they never read, and race for, the same rows.
 */
export const DUE_SHARDS = 4;
