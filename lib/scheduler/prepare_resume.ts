/**
 * Large actions' background writes (prepare.ts) as the app runs them: the
 * process that scheduled one starts it at once and does not wait for it;
 * the minute apply tick goes on with any whose runner is gone (its lease
 * ran out), and removes plan parts nobody names.
 */
import { keys } from "../kv/keys.ts";
import { ABANDONED_WRITE_MS } from "../kv/actions.ts";
import { log } from "../operations/log.ts";
import { type PrepareDeps, runPreparedWrite } from "./prepare.ts";
import {
  dropPrepareJob,
  type PrepareChunk,
  type PrepareJob,
} from "./prepare_plan.ts";

/** Writes started in this process and not yet ended; tests and shutdown wait for them. */
const inProcess = new Set<Promise<unknown>>();

/** Starts the write of `actionId` in this process, without waiting for it. */
export function runInBackground(
  deps: PrepareDeps,
  actionId: string,
  holder: string,
): void {
  const run = runPreparedWrite(deps, actionId, holder).catch((err) =>
    // The job keeps its place: the apply tick takes it over once the lease ends.
    log.error("a large action's write failed; the apply tick resumes it", {
      actionId,
      error: String(err),
    })
  ).finally(() => inProcess.delete(run));
  inProcess.add(run);
}

/** Resolves once every write this process started has ended. */
export async function backgroundWritesSettled(): Promise<void> {
  while (inProcess.size) await Promise.allSettled([...inProcess]);
}

/**
 * Goes on with every background write whose runner is gone (its lease ran
 * out), and removes parts a crashed schedule left before its action was
 * written. The minute apply tick calls it; answers how many it finished.
 */
export async function resumePreparedWrites(deps: PrepareDeps): Promise<number> {
  const { kv } = deps;
  let done = 0;
  const jobs: PrepareJob[] = [];
  for await (
    const e of kv.list<PrepareJob>({ prefix: keys.actionPrepares() })
  ) {
    jobs.push(e.value);
  }
  for (const j of jobs) {
    if (j.leaseUntil > deps.now()) continue;
    if (await runPreparedWrite(deps, j.actionId) !== "busy") done++;
  }
  await purgeOrphanChunks(deps, new Set(jobs.map((j) => j.actionId)));
  return done;
}

/** Parts no job names any more. */
async function purgeOrphanChunks(
  deps: PrepareDeps,
  jobs: Set<string>,
): Promise<void> {
  const { kv } = deps;
  const seen = new Set<string>();
  for await (
    const e of kv.list<PrepareChunk & { writtenAt: number }>({
      prefix: keys.prepareChunks(),
    })
  ) {
    const actionId = e.key[1] as string;
    if (jobs.has(actionId) || seen.has(actionId)) continue;
    const [job, action] = await kv.getMany([
      keys.actionPrepare(actionId),
      keys.action(actionId),
    ]);
    if (job.value) continue;
    seen.add(actionId);
    // A write that ended (done or stopped) had its clean-up cut short; a
    // schedule that crashed before its action record left parts nobody names.
    if (action.value || e.value.writtenAt < deps.now() - ABANDONED_WRITE_MS) {
      await dropPrepareJob(kv, actionId);
    }
  }
}
