/**
 * The optimistic write every record's change shares: read, build the write
 * checked against what was read, commit. A failed check means another
 * request wrote in between, so the change is read and built again; after
 * `CONDITIONAL_WRITE_TRIES` lost races the caller answers 409, since a record
 * this contended is better retried by the person than spun on here.
 */
import { ConflictError } from "../errors.ts";
import { commitRetrying } from "./db.ts";

export const CONDITIONAL_WRITE_TRIES = 10;

/**
 * One try: either the answer with nothing to write (the record is already as
 * asked, or the change does not apply), or the write, with the answer it
 * stands for once committed.
 */
export type WriteTry<T> =
  | { done: T }
  | { write: () => Deno.AtomicOperation; result: T };

/**
 * Runs `attempt` until its write commits (or it has nothing to write).
 * `subject` names the record in the 409: "user u_1", "target t_2".
 */
export async function conditionalWrite<T>(
  subject: string,
  attempt: () => Promise<WriteTry<T>>,
  tries = CONDITIONAL_WRITE_TRIES,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const step = await attempt();
    if ("done" in step) return step.done;
    const res = await commitRetrying(step.write);
    if (res.ok) return step.result;
  }
  throw new ConflictError(
    `${subject} is being changed by another request; try again`,
  );
}
