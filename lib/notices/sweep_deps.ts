/**
 * What a sweep is given (KV, the channels, the clock, its options) and what
 * it counts as it goes; apart from the sweep so the pieces it runs can share
 * them without importing it.
 */
import type { Dispatchers } from "../channels/types.ts";
import type { SweepRun } from "../types.ts";

export type SweepLog = (
  message: string,
  data?: Record<string, unknown>,
) => void;

export interface SweepDeps {
  kv: Deno.Kv;
  dispatchers: Dispatchers;
  now: () => number;
  log?: SweepLog;
}

export interface SweepOptions {
  /** Per dispatch group; a slow upstream cannot stall the tick (default 10 s, at most half the lease). */
  dispatchTimeoutMs?: number;
  /** Groups claimed, sent and marked at once (default 10). */
  concurrency?: number;
  /** Due-index keys read per page (default 500). */
  pageSize?: number;
  /** How long a claim holds its rows before recovery may take them (default 60 s). */
  leaseMs?: number;
  /** Stop starting new pages after this long; the next tick goes on (default 45 s). */
  budgetMs?: number;
  /** Read at most this many pages of due rows in one sweep (default: as many as the budget allows). */
  maxPages?: number;
}

export interface SweepReport extends SweepRun {
  /** Rows that failed transiently and went back to pending with backoff. */
  retried: number;
  /** Due rows left alone (their schedule write is still in progress, or another sweep holds their group). */
  deferred: number;
  /** Rows whose outcome could not be recorded; recovery finishes them after the lease. */
  unmarked: number;
  /** Pages or groups abandoned on an unexpected error (logged); their rows wait for the next tick or their lease. */
  errors: number;
  /** Rows whose claim was lost to another sweep, a cancel or the apply (then judged again). */
  claimsLost: number;
}

export interface Tally {
  claimsLost: number;
  processed: number;
  sent: number;
  failed: number;
  retried: number;
  voidedStale: number;
  deferred: number;
  unmarked: number;
  errors: number;
}

export const DEFAULT_LEASE_MS = 60_000;
