/**
 * The checks a schedule or a move makes before anything is read: the time,
 * the image tag, every problem of a body in one 400.
 */
import type { z } from "zod";
import {
  BadRequestError,
  capIssues,
  type Issue,
  zodIssues,
} from "../errors.ts";
import { getCatalogEntry, ImageTagSchema } from "../kv/catalog.ts";
import type { Config } from "../config.ts";

export interface ScheduleDeps {
  kv: Deno.Kv;
  config: Pick<Config, "scheduleMinAheadSeconds"> & {
    /** Controller calls in flight at once: how long a wave is expected to take. */
    controllerConcurrency?: number;
    /** Larger actions are written in the background (`preparing`). */
    scheduleInlineTargets?: number;
  };
  now: () => number;
  /**
   * Starts a large action's background write (default: in this process, at
   * once); tests pass their own to run it step by step.
   */
  startBackgroundWrite?: (actionId: string, holder: string) => void;
}

export const MAX_AHEAD_MS = 365 * 24 * 3_600_000;

/** How many ids an error message lists before it says "and N more". */
const NAMED_IN_MESSAGE = 20;

export function nameSome(ids: string[]): string {
  const shown = ids.slice(0, NAMED_IN_MESSAGE).join(", ");
  return ids.length > NAMED_IN_MESSAGE
    ? `${shown} and ${
      (ids.length - NAMED_IN_MESSAGE).toLocaleString("en-US")
    } more`
    : shown;
}

/** Every problem with the action's time (none when it is fine). */
export function scheduledAtIssues(
  scheduledAt: string,
  now: number,
  minAheadSeconds: number,
): Issue[] {
  const at = Date.parse(scheduledAt);
  if (!Number.isFinite(at)) {
    return [{ path: "scheduledAt", message: "is not a date" }];
  }
  if (at <= now) return [{ path: "scheduledAt", message: "is in the past" }];
  if (at < now + minAheadSeconds * 1000) {
    return [{
      path: "scheduledAt",
      message: `must be at least ${minAheadSeconds} seconds from now`,
    }];
  }
  if (at > now + MAX_AHEAD_MS) {
    return [{
      path: "scheduledAt",
      message: `must be at most a year from now (by ${
        new Date(now + MAX_AHEAD_MS).toISOString()
      })`,
    }];
  }
  return [];
}

export function checkScheduledAt(
  scheduledAt: string,
  now: number,
  minAheadSeconds: number,
): number {
  const [issue] = scheduledAtIssues(scheduledAt, now, minAheadSeconds);
  if (issue) {
    throw new BadRequestError(`scheduledAt ${issue.message}`, [issue]);
  }
  return Date.parse(scheduledAt);
}

/** The problem with a version change's tag, or none. */
export async function imageTagIssues(
  kv: Deno.Kv,
  imageTag: string,
): Promise<Issue[]> {
  const entry = await getCatalogEntry(kv, imageTag);
  const problem = !entry
    ? `image tag ${imageTag} is not in the catalog`
    : !entry.available
    ? `image tag ${imageTag} is not available`
    : null;
  return problem ? [{ path: "imageTag", message: problem }] : [];
}

export async function checkImageTag(
  kv: Deno.Kv,
  imageTag: string,
): Promise<void> {
  const [issue] = await imageTagIssues(kv, imageTag);
  if (issue) throw new BadRequestError(issue.message, [issue]);
}

/**
 * A schedule body the schema refused, answered with every problem at once:
 * the schema's, and the time and version checks the schema cannot make,
 * whenever the fields they read are there to check.
 */
export async function invalidSchedule(
  deps: Pick<ScheduleDeps, "kv" | "config" | "now">,
  raw: unknown,
  error: z.ZodError,
): Promise<BadRequestError> {
  const issues = zodIssues(error);
  const body = (raw !== null && typeof raw === "object" ? raw : {}) as Record<
    string,
    unknown
  >;
  const at = !issues.some((i) => i.path === "scheduledAt") &&
      typeof body.scheduledAt === "string"
    ? scheduledAtIssues(
      body.scheduledAt,
      deps.now(),
      deps.config.scheduleMinAheadSeconds,
    )
    : [];
  const tag = body.actionType === "version_change" &&
      typeof body.imageTag === "string" &&
      !issues.some((i) => i.path === "imageTag") &&
      ImageTagSchema.safeParse(body.imageTag).success
    ? await imageTagIssues(deps.kv, body.imageTag)
    : [];
  return problemsError([...issues, ...at, ...tag]);
}

export function badRequestOrThrow(err: unknown): BadRequestError {
  if (err instanceof BadRequestError) return err;
  throw err;
}

/** One 400 that names every problem, the first ones in its message. */
export function problemsError(issues: Issue[]): BadRequestError {
  const listed = capIssues(issues);
  return new BadRequestError(
    `invalid request body: ${
      listed.map((i) =>
        i.path === "(more)" ? i.message : `${i.path}: ${i.message}`
      ).join("; ")
    }`,
    listed,
  );
}

/** Parses a schedule or move body, or throws a 400 naming every problem (see `invalidSchedule`). */
export async function parseScheduleBody<T extends z.ZodType>(
  deps: Pick<ScheduleDeps, "kv" | "config" | "now">,
  schema: T,
  raw: unknown,
): Promise<z.output<T>> {
  const r = schema.safeParse(raw);
  if (!r.success) throw await invalidSchedule(deps, raw, r.error);
  return r.data;
}
