/**
 * What the minute apply job finishes before it applies anything: schedule
 * writes that were abandoned, cancels, moves and pauses a crash interrupted,
 * owners' postpones that wait for a warning in flight, and the background
 * write of a large action whose process is gone, and the admin's instance
 * list of a database from before it.
 */
import { keys } from "../kv/keys.ts";
import { purgeAbandonedWrites } from "../scheduler/action_write.ts";
import { finishCancel } from "../scheduler/cancel_targets.ts";
import { finishReschedule } from "../scheduler/reschedule.ts";
import { finishPause } from "../scheduler/rollout_hold.ts";
import { finishPostpone } from "../scheduler/postpone.ts";
import { resumePreparedWrites } from "../scheduler/prepare_resume.ts";
import { ensureInstanceList } from "../kv/instance_list.ts";
import type { ApplyDeps } from "./apply.ts";

export async function finishInterrupted(
  deps: Pick<ApplyDeps, "kv" | "now">,
): Promise<void> {
  const { kv } = deps;
  await purgeAbandonedWrites(kv, deps.now());
  for await (const e of kv.list<number>({ prefix: keys.actionsCancelling() })) {
    await finishCancel(deps, e.key[1] as string);
  }
  for await (const e of kv.list({ prefix: keys.actionsRescheduling() })) {
    await finishReschedule(deps, e.key[1] as string);
  }
  for await (const e of kv.list({ prefix: keys.actionsPausing() })) {
    await finishPause(deps, e.key[1] as string);
  }
  for await (const e of kv.list({ prefix: keys.targetsPostponing() })) {
    await finishPostpone(deps, e.key[1] as string);
  }
  // Large actions whose background write lost its process.
  await resumePreparedWrites(deps);
  // The admin's instance list, if the start could not build it.
  await ensureInstanceList(kv);
}
