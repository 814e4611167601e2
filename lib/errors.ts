/**
 * Typed errors. One middleware maps them: pages redirect or render an error
 * page, `/api` answers the status with a JSON body `{error, issues?}`.
 */
import type { z } from "zod";

export interface Issue {
  path: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
    this.name = "AppError";
  }
  toJSON(): { error: string; issues?: Issue[] } {
    return this.issues
      ? { error: this.message, issues: this.issues }
      : { error: this.message };
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, issues?: Issue[]) {
    super(400, message, issues);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = "sign in required") {
    super(401, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = "admin role required") {
    super(403, message);
  }
}
export class NotFoundError extends AppError {
  constructor(message = "not found") {
    super(404, message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, issues?: Issue[]) {
    super(409, message, issues);
  }
}
export class UnprocessableError extends AppError {
  constructor(message: string, issues?: Issue[]) {
    super(422, message, issues);
  }
}

/** zod's default wording ("Too big: expected number to be <=168") said the way a person reads it. */
function humanMessage(issue: z.core.$ZodIssue): string {
  const i = issue as z.core.$ZodIssue & Record<string, unknown>;
  const custom = !/^(Too (big|small)|Invalid (input|discriminator|option))/
    .test(
      issue.message,
    );
  if (custom) return issue.message;
  const what = (n: unknown, origin: unknown) =>
    origin === "string"
      ? `${n} characters`
      : origin === "array" || origin === "set"
      ? `${n} items`
      : String(n);
  switch (issue.code) {
    case "too_big":
      return `must be at most ${what(i.maximum, i.origin)}`;
    case "too_small":
      return i.origin === "string" && i.minimum === 1
        ? "must not be empty"
        : `must be at least ${what(i.minimum, i.origin)}`;
    case "invalid_type":
      return /received undefined/.test(issue.message)
        ? "required"
        : `must be a ${String(i.expected)}`;
    case "invalid_union":
      if (Array.isArray(i.options) && i.options.length) {
        return `must be one of ${
          i.options.map((o) => JSON.stringify(o)).join(", ")
        }`;
      }
      return issue.message.replace(
        /^Invalid discriminator value\. Expected /,
        "must be one of ",
      );
    case "invalid_value":
      return Array.isArray(i.values)
        ? `must be one of ${i.values.map((v) => JSON.stringify(v)).join(", ")}`
        : issue.message;
    default:
      return issue.message;
  }
}

/** Turns zod issues into field-named messages a person can act on. */
export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join(".") || "(body)",
    message: humanMessage(i),
  }));
}

export function validationError(
  error: z.ZodError,
  what = "request body",
): BadRequestError {
  const issues = zodIssues(error);
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return new BadRequestError(`invalid ${what}: ${summary}`, issues);
}

/** Parses with a zod schema or throws a 400 naming every problem. */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what?: string,
): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error, what);
  return r.data;
}

/** Reads a JSON body, answering 400 for the wrong content type and 400 for bad JSON. */
export async function readJson(req: Request): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new BadRequestError(
      `expected Content-Type: application/json, got ${
        type ? `"${type}"` : "none"
      }`,
    );
  }
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(
      `body is not valid JSON: ${(err as Error).message}`,
    );
  }
}
