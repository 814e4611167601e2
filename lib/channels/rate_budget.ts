/**
 * A requests-per-second budget for one provider, shared by everything in the
 * process that calls it (the sweep, the sign-in flow, the internal route), so
 * together they stay under the provider's rate instead of each on its own.
 */
export class RateBudget {
  private nextAt = 0;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Waits for the next free slot. Slots are spaced evenly: a provider that
   * counts over a sliding second never sees a burst above its rate.
   */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + 1000 / this.perSecond;
    if (at > now) await sleep(at - now, signal);
  }

  /** How long a caller asking now would wait for its slot. */
  delayMs(): number {
    return Math.max(0, this.nextAt - this.now());
  }

  /** The provider asked everyone to wait (429): no slot is handed out before then. */
  pause(ms: number): void {
    this.nextAt = Math.max(this.nextAt, this.now() + ms);
  }
}

const shared = new Map<number, RateBudget>();

/** The process-wide budget for a rate: every sender built with the same rate shares it. */
export function sharedRateBudget(perSecond: number): RateBudget {
  let b = shared.get(perSecond);
  if (!b) shared.set(perSecond, b = new RateBudget(perSecond));
  return b;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
