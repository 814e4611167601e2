/**
 * A limit on controller calls in flight, shared by every batch an apply runs
 * at once, so `CONTROLLER_CONCURRENCY` is what the controller sees whatever
 * the batches do.
 */
export function callSlots(width: number) {
  let free = Math.max(1, width);
  const waiting: (() => void)[] = [];
  return async function <T>(work: () => Promise<T>): Promise<T> {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await work();
    } finally {
      // A waiter takes the slot over; otherwise it is free again.
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
