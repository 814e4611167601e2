/**
 * Sign-in emails, delivered from rows kept in KV, not from a KV queue (queues
 * are absent over KV Connect and not offered by the new Deno Deploy).
 *
 * `/login` stores a row and answers; right after, the same process sends it
 * without the request waiting (`sendSignInEmailSoon`), and the minute sweep
 * job sends whatever a process left behind (`sweepSignInEmails`). Either way
 * a row is sent only by the holder of its lease, taken by an atomic
 * check-and-set, and under an idempotency key of its own, so a retry, a
 * second process or the backstop never sends a second email. A row holds the
 * address, the page to go to after signing in and the hash of the last link
 * it carried, never a token; it expires with the link it would carry.
 */
import { backoffMs } from "../backoff.ts";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { newId } from "../ids.ts";
import {
  LOGIN_LINK_TTL_MS,
  type LoginLinkSend,
  revokeLoginLink,
  sendLoginLink,
  type SignInLinkJob,
} from "./login_links.ts";
import type { AppContext } from "../app_context.ts";
import { log } from "../operations/log.ts";
import {
  recordSignInEmail,
  type SignInOutcome,
} from "../operations/telemetry.ts";

export interface SignInEmail {
  id: string;
  email: string;
  next: string;
  status: "pending" | "sending";
  /** When someone should look at the row next: when it is due, or when its holder's lease ends. */
  dueAt: number;
  /** The holder's claim while `sending`. */
  claimId: string | null;
  attempts: number;
  /** Hash of the link the last attempt carried. */
  tokenHash: string | null;
  lastError: string | null;
  createdAt: number;
  /** Past this the link would be useless: the row is dropped unsent. */
  expiresAt: number;
}

export type SignInEmailDeps = Pick<
  AppContext,
  "kv" | "config" | "email" | "now"
>;

export const MAX_SIGN_IN_ATTEMPTS = 5;
const RETRY_BASE_MS = 5_000;
/** Rows the backstop looks at in one run; the next minute takes the rest. */
const SWEEP_PAGE = 100;
const SWEEP_BUDGET_MS = 15_000;

/** One key per row: every attempt at the same row carries it, so the provider sends it once. */
export function signInIdempotencyKey(id: string): string {
  return `kiloclaw-sign-in/${id}`;
}

/** KV drops the row a little after it expires, whatever happens to its sender. */
function expireIn(row: SignInEmail, now: number): number {
  return Math.max(1, row.expiresAt - now) + 60_000;
}

function put(
  op: Deno.AtomicOperation,
  row: SignInEmail,
  now: number,
): Deno.AtomicOperation {
  const opts = { expireIn: expireIn(row, now) };
  return op.set(keys.signInEmail(row.id), row, opts)
    .set(keys.signInEmailDue(row.dueAt, row.id), null, opts);
}

/** Stores a sign-in email to send, due now; returns its id. Looks nothing up. */
export async function queueSignInEmail(
  kv: Deno.Kv,
  job: SignInLinkJob,
  now: number,
): Promise<string> {
  const row: SignInEmail = {
    id: newId(),
    email: job.email,
    next: job.next,
    status: "pending",
    dueAt: now,
    claimId: null,
    attempts: 0,
    tokenHash: null,
    lastError: null,
    createdAt: now,
    expiresAt: now + LOGIN_LINK_TTL_MS,
  };
  const res = await commitRetrying(() =>
    put(
      kv.atomic().check({ key: keys.signInEmail(row.id), versionstamp: null }),
      row,
      now,
    )
  );
  if (!res.ok) throw new Error("sign-in email id already in use");
  return row.id;
}

/** Takes the row for one attempt: pending → sending, its due key moved to the end of the lease. */
async function claim(
  kv: Deno.Kv,
  entry: Deno.KvEntry<SignInEmail>,
  now: number,
  leaseMs: number,
): Promise<Deno.KvEntry<SignInEmail> | null> {
  const row = entry.value;
  const held: SignInEmail = {
    ...row,
    status: "sending",
    claimId: newId(),
    attempts: row.attempts + 1,
    dueAt: now + leaseMs,
  };
  const res = await commitRetrying(() =>
    put(
      kv.atomic().check(entry).delete(keys.signInEmailDue(row.dueAt, row.id)),
      held,
      now,
    )
  ).catch(() => null);
  return res?.ok
    ? { key: entry.key, value: held, versionstamp: res.versionstamp }
    : null;
}

/** The row is done (sent, not to be sent, or given up): gone, if this holder still holds it. */
async function finish(kv: Deno.Kv, entry: Deno.KvEntry<SignInEmail>) {
  await commitRetrying(() =>
    kv.atomic().check(entry).delete(entry.key)
      .delete(keys.signInEmailDue(entry.value.dueAt, entry.value.id))
  );
}

async function retryLater(
  kv: Deno.Kv,
  entry: Deno.KvEntry<SignInEmail>,
  now: number,
  error: string,
  tokenHash: string | null,
  retryAfterMs: number | undefined,
) {
  const row = entry.value;
  const next: SignInEmail = {
    ...row,
    status: "pending",
    claimId: null,
    dueAt: now +
      backoffMs(row.attempts, { baseMs: RETRY_BASE_MS, retryAfterMs }),
    tokenHash: tokenHash ?? row.tokenHash,
    lastError: error,
  };
  await commitRetrying(() =>
    put(
      kv.atomic().check(entry).delete(keys.signInEmailDue(row.dueAt, row.id)),
      next,
      now,
    )
  );
}

/**
 * One attempt at one row, if it is due and this caller wins its lease.
 * Returns what happened, or null when there was nothing to do (not due,
 * held by another sender, already gone).
 */
export async function deliverSignInEmail(
  deps: SignInEmailDeps,
  id: string,
  /** The due key the row was found by (the backstop): removed if it is stale. */
  dueKey?: Deno.KvKey,
): Promise<SignInOutcome | null> {
  const { kv } = deps;
  const entry = await kv.get<SignInEmail>(keys.signInEmail(id));
  const row = entry.value;
  if (dueKey && row?.dueAt !== dueKey[1]) {
    await commitRetrying(() => kv.atomic().check(entry).delete(dueKey));
    return null;
  }
  if (!row) return null;
  const now = deps.now();
  if (now >= row.expiresAt) {
    await finish(kv, entry as Deno.KvEntry<SignInEmail>);
    return done("expired", row);
  }
  if (row.dueAt > now) return null;
  const leaseMs = deps.config.noticeLeaseSeconds * 1000;
  const held = await claim(
    kv,
    entry as Deno.KvEntry<SignInEmail>,
    now,
    leaseMs,
  );
  if (!held) return null;

  let sent: LoginLinkSend | { outcome: "threw"; error: string };
  try {
    sent = await sendLoginLink(deps, held.value, {
      idempotencyKey: signInIdempotencyKey(id),
      // Well within the lease: no attempt is still sending when another may start.
      signal: AbortSignal.timeout(Math.min(10_000, leaseMs / 2)),
    });
  } catch (err) {
    sent = {
      outcome: "threw",
      error: err instanceof Error ? err.message : String(err),
    };
  }
  const after = deps.now();
  if (sent.outcome === "unknown") {
    await finish(kv, held);
    return done("unknown_address", held.value);
  }
  if (sent.outcome === "sent") {
    await finish(kv, held);
    return done("sent", held.value, sent.link, deps);
  }
  if (sent.outcome === "failed" && sent.failure.keyInUse) {
    // The provider holds this row's key from an earlier attempt, with the
    // link that attempt carried: that email went out; this link never will.
    await revokeLoginLink(kv, sent.tokenHash);
    await finish(kv, held);
    return done("sent", held.value);
  }
  const error = sent.outcome === "threw" ? sent.error : sent.failure.error;
  const transient = sent.outcome === "threw" || sent.failure.transient;
  if (!transient || held.value.attempts >= MAX_SIGN_IN_ATTEMPTS) {
    await finish(kv, held);
    log.error("sign-in email given up", {
      row: id,
      attempts: held.value.attempts,
      error,
    });
    return done("failed", held.value);
  }
  await retryLater(
    kv,
    held,
    after,
    error,
    sent.outcome === "failed" ? sent.tokenHash : null,
    sent.outcome === "failed" ? sent.failure.retryAfterMs : undefined,
  );
  log.warn("sign-in email will be tried again", {
    row: id,
    attempts: held.value.attempts,
    error,
  });
  return done("retried", held.value);
}

function done(
  outcome: SignInOutcome,
  row: SignInEmail,
  link?: string,
  deps?: SignInEmailDeps,
): SignInOutcome {
  recordSignInEmail(outcome);
  // Locally, with the outbox, the link also lands in the log: there is no
  // inbox to read it from. Never with a real provider, never on Deploy.
  const printLink = link && deps?.email.name === "outbox" &&
    !deps.config.onDeploy;
  log.info(
    "sign-in email",
    printLink
      ? { row: row.id, outcome, link }
      : { row: row.id, outcome, attempts: row.attempts },
  );
  return outcome;
}

export interface SignInSweepCounts {
  sent: number;
  unknown_address: number;
  retried: number;
  failed: number;
  expired: number;
}

/**
 * The backstop, run by the minute sweep job: every row due (never sent, a
 * retry whose time came, or a lease that ended without an answer), oldest
 * first, one at a time through the shared email budget.
 */
export async function sweepSignInEmails(
  deps: SignInEmailDeps,
): Promise<SignInSweepCounts> {
  const counts: SignInSweepCounts = {
    sent: 0,
    unknown_address: 0,
    retried: 0,
    failed: 0,
    expired: 0,
  };
  const started = performance.now();
  const due: Deno.KvKey[] = [];
  for await (
    const e of deps.kv.list({
      prefix: keys.signInEmailsDue(),
      end: [...keys.signInEmailsDue(), deps.now() + 1],
    }, { limit: SWEEP_PAGE })
  ) due.push(e.key);
  for (const key of due) {
    if (performance.now() - started > SWEEP_BUDGET_MS) break;
    const outcome = await deliverSignInEmail(deps, key[2] as string, key);
    if (outcome) counts[outcome]++;
  }
  return counts;
}

// Sends started by requests and not finished yet: tests wait for them.
const inFlight = new Set<Promise<void>>();

/**
 * Sends a row just stored by a request, once the request has answered: the
 * caller does not wait, so `/login` takes the same time whether or not the
 * address is known. A send that fails here is left to the backstop.
 */
export function sendSignInEmailSoon(deps: SignInEmailDeps, id: string): void {
  const task = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    await deliverSignInEmail(deps, id);
  })().catch((err) => {
    log.error("sign-in email could not be sent now; the sweep will", {
      row: id,
      error: err instanceof Error ? err.message : String(err),
    });
  }).finally(() => inFlight.delete(task));
  inFlight.add(task);
}

/** Resolves once every send this process started has finished (for tests and shutdown). */
export async function whenSignInEmailsSent(): Promise<void> {
  while (inFlight.size) await Promise.all([...inFlight]);
}
