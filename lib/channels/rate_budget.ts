/**
 * A requests-per-second budget for one provider, shared by everything that
 * calls it (the sweep, the sign-in flow, the internal route) — in one
 * process (`RateBudget`) or, kept in KV, across every process and Deno
 * Deploy isolate on the same database (`KvRateBudget`).
 *
 * Calls are spaced at least `1000 / limit` ms apart by the time they are
 * let go, plus a small margin: a provider counting requests in fixed
 * one-second windows then never sees more than `limit` in one window,
 * wherever its window boundaries fall. The limit is the configured rate or
 * the provider's own `ratelimit-limit`, whichever is lower.
 */

import { keys } from "../kv/keys.ts";

/** What a provider's answer says about its limit (`ratelimit-*` and `retry-after` headers). */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  /** Time until the provider's window resets. */
  resetMs?: number;
}

export interface SendBudget {
  /** Waits until this caller may send; the time (epoch ms) it was let go. */
  take(signal?: AbortSignal): Promise<number>;
  /** About how long a caller asking now would wait. */
  delayMs(): Promise<number>;
  /** The provider asked everyone to wait (429): nobody sends before then. */
  pause(ms: number): Promise<void>;
  /** Learns from the rate-limit headers of an answer. */
  observe(info: RateLimitInfo): Promise<void>;
}

/** Extra spacing on top of `1000 / limit`: absorbs jitter between letting a call go and its arrival. */
const MARGIN = 0.05;
const MIN_MARGIN_MS = 5;
/** A quota reset further off than this (not the per-second window) stops sends until then. */
const LONG_RESET_MS = 2_000;

export function spacingMs(limit: number): number {
  const base = 1000 / limit;
  return base + Math.max(MIN_MARGIN_MS, base * MARGIN);
}

/** Reads the standard rate-limit headers of an answer. */
export function rateLimitInfo(
  headers: Record<string, string> | null | undefined,
): RateLimitInfo {
  const num = (name: string) => {
    const v = headers?.[name];
    const n = v === undefined || v === "" ? NaN : Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const info: RateLimitInfo = {};
  const limit = num("ratelimit-limit");
  const remaining = num("ratelimit-remaining");
  const reset = num("ratelimit-reset");
  if (limit !== undefined && limit > 0) info.limit = limit;
  if (remaining !== undefined) info.remaining = remaining;
  if (reset !== undefined) info.resetMs = reset * 1000;
  return info;
}

interface BudgetState {
  /** When the last call was let go (epoch ms). */
  lastAt: number;
  /** The next slot free to reserve (epoch ms): callers queue in order of reservation. */
  nextAt?: number;
  /** Nobody sends before this (a 429's Retry-After, an exhausted quota). */
  pausedUntil: number;
  /** The provider's own limit per second, once it said. */
  providerLimit: number | null;
}

const EMPTY: BudgetState = { lastAt: 0, pausedUntil: 0, providerLimit: null };

function nextFree(s: BudgetState, configured: number): number {
  const limit = Math.min(configured, s.providerLimit ?? Infinity);
  return Math.max(s.lastAt + spacingMs(limit), s.pausedUntil);
}

function learned(s: BudgetState, info: RateLimitInfo, now: number) {
  const next = { ...s };
  if (info.limit !== undefined) next.providerLimit = info.limit;
  if (
    info.remaining === 0 && info.resetMs !== undefined &&
    info.resetMs > LONG_RESET_MS
  ) next.pausedUntil = Math.max(next.pausedUntil, now + info.resetMs);
  return next;
}

/** The budget of one process (tests, and a sender with no KV at hand). */
export class RateBudget implements SendBudget {
  private state: BudgetState = { ...EMPTY };

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(signal?: AbortSignal): Promise<number> {
    for (;;) {
      const now = this.now();
      const free = nextFree(this.state, this.perSecond);
      if (now >= free) {
        this.state.lastAt = now;
        return now;
      }
      await sleep(free - now, signal);
    }
  }

  delayMs(): Promise<number> {
    return Promise.resolve(
      Math.max(0, this.state.pausedUntil - this.now()),
    );
  }

  pause(ms: number): Promise<void> {
    this.state.pausedUntil = Math.max(
      this.state.pausedUntil,
      this.now() + ms,
    );
    return Promise.resolve();
  }

  observe(info: RateLimitInfo): Promise<void> {
    this.state = learned(this.state, info, this.now());
    return Promise.resolve();
  }
}

/**
 * The budget kept in KV: one small record per provider, moved by atomic
 * check-and-set, so every process on the database keeps to one rate. A
 * caller waits until the record says the next call is free, then takes it
 * with a commit that fails if someone else took it first.
 */
export class KvRateBudget implements SendBudget {
  private readonly key: Deno.KvKey;

  constructor(
    private readonly kv: Deno.Kv,
    name: string,
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = keys.rateBudget(name);
  }

  async take(signal?: AbortSignal): Promise<number> {
    // First a place in the queue: a slot, reserved in order, so no caller
    // waits behind others for ever.
    for (;;) {
      signal?.throwIfAborted();
      const entry = await this.kv.get<BudgetState>(this.key);
      const state = entry.value ?? EMPTY;
      const now = this.now();
      const slot = Math.max(
        now,
        state.nextAt ?? 0,
        nextFree(state, this.perSecond),
      );
      const res = await this.kv.atomic().check(entry)
        .set(
          this.key,
          {
            ...state,
            nextAt: slot + spacingMs(this.limitOf(state)),
          } satisfies BudgetState,
        )
        .commit().catch(() => null);
      if (!res?.ok) continue;
      if (slot > now) await sleep(slot - now, signal);
      break;
    }
    // Then the send itself, spaced from the last one actually let go (a
    // caller that woke late must not crowd the next).
    for (;;) {
      signal?.throwIfAborted();
      const entry = await this.kv.get<BudgetState>(this.key);
      const state = entry.value ?? EMPTY;
      const now = this.now();
      const free = nextFree(state, this.perSecond);
      if (now < free) {
        await sleep(free - now, signal);
        continue;
      }
      const res = await this.kv.atomic().check(entry)
        .set(this.key, { ...state, lastAt: now } satisfies BudgetState)
        .commit().catch(() => null);
      if (res?.ok) return now;
    }
  }

  private limitOf(s: BudgetState): number {
    return Math.min(this.perSecond, s.providerLimit ?? Infinity);
  }

  async delayMs(): Promise<number> {
    const state = (await this.kv.get<BudgetState>(this.key)).value ?? EMPTY;
    return Math.max(0, state.pausedUntil - this.now());
  }

  pause(ms: number): Promise<void> {
    return this.update((s, now) => ({
      ...s,
      pausedUntil: Math.max(s.pausedUntil, now + ms),
    }));
  }

  observe(info: RateLimitInfo): Promise<void> {
    if (info.limit === undefined && info.remaining !== 0) {
      return Promise.resolve();
    }
    return this.update((s, now) => learned(s, info, now));
  }

  private async update(
    change: (s: BudgetState, now: number) => BudgetState,
  ): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const entry = await this.kv.get<BudgetState>(this.key);
      const state = entry.value ?? EMPTY;
      const next = change(state, this.now());
      if (
        next.pausedUntil === state.pausedUntil &&
        next.providerLimit === state.providerLimit
      ) return;
      const res = await this.kv.atomic().check(entry).set(this.key, next)
        .commit().catch(() => null);
      if (res?.ok) return;
    }
  }
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
