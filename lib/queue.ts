/**
 * Work done off the request, through the Deno KV queue (durable, retried, and
 * run by Deno Deploy as by a local process). Today: sending sign-in links, so
 * `/login` takes the same time for known and unknown addresses.
 */
import { z } from "zod";
import type { AppContext } from "./context.ts";
import { sendLoginLink, type SignInLinkJob } from "./auth/login_links.ts";
import { log } from "./log.ts";

const Job = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("sign_in_link"),
    email: z.string().max(254),
    next: z.string().max(2048),
  }),
]);
export type QueueJob = z.infer<typeof Job>;

/** Retries of a job that threw (a provider hiccup), in ms after each failure. */
const BACKOFF_MS = [1_000, 5_000, 30_000];

// Jobs this process enqueued and has not finished: tests wait for them.
let pending = 0;
const idleWaiters: (() => void)[] = [];

export async function enqueueJob(
  kv: Deno.Kv,
  job: SignInLinkJob,
): Promise<void> {
  pending++;
  try {
    await kv.enqueue(job, { backoffSchedule: BACKOFF_MS });
  } catch (err) {
    settle();
    throw err;
  }
}

function settle() {
  pending = Math.max(0, pending - 1);
  if (pending === 0) { for (const wake of idleWaiters.splice(0)) wake(); }
}

/** Handles one delivered job; a throw makes the queue deliver it again later. */
export async function handleQueueMessage(
  ctx: AppContext,
  raw: unknown,
): Promise<void> {
  const parsed = Job.safeParse(raw);
  if (!parsed.success) {
    log.warn("queue: dropped a message this version does not understand", {
      message: JSON.stringify(raw),
    });
    return;
  }
  const job = parsed.data;
  try {
    const { outcome, link } = await sendLoginLink(ctx, job);
    // Locally the link also lands in the log: with the outbox there is no inbox to read it from.
    const printLink = link && ctx.email.name === "outbox" &&
      !ctx.config.onDeploy;
    log.info("sign-in link", printLink ? { outcome, link } : { outcome });
    settle();
  } catch (err) {
    log.error("sign-in link could not be sent; the queue retries it", {
      error: String(err),
    });
    throw err;
  }
}

/** Starts handling queued jobs; resolves when the KV is closed. */
export function listenForJobs(ctx: AppContext): Promise<void> {
  return ctx.kv.listenQueue((m) => handleQueueMessage(ctx, m));
}

/** Resolves once every job this process enqueued has been handled (for tests). */
export function whenQueueIdle(timeoutMs = 10_000): Promise<void> {
  if (pending === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`queue still has ${pending} job(s) after ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    idleWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
