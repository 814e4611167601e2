/**
 * Typed errors. `lib/web/http_errors.ts` maps them: pages redirect or render an
 * error page, `/api` answers the status with a JSON body `{error, issues?}`.
 */
import { z } from "zod";

export interface Issue {
  path: string;
  message: string;
}

/** An answer lists at most this many problems, then says how many more there are. */
export const MAX_LISTED_ISSUES = 20;

/** The first MAX_LISTED_ISSUES issues, and one more that counts the rest. */
export function capIssues(issues: Issue[]): Issue[] {
  if (issues.length <= MAX_LISTED_ISSUES) return issues;
  const rest = issues.length - MAX_LISTED_ISSUES;
  return [
    ...issues.slice(0, MAX_LISTED_ISSUES),
    {
      path: "(more)",
      message: `and ${rest.toLocaleString("en-US")} more problem${
        rest === 1 ? "" : "s"
      } like these`,
    },
  ];
}

/** Input echoed in a message: quoted, control characters visible, long values cut. */
export function quote(value: string, max = 60): string {
  const cut = value.length > max ? value.slice(0, max) + "…" : value;
  return JSON.stringify(cut.toWellFormed());
}

export class AppError extends Error {
  readonly issues?: Issue[];
  constructor(
    readonly status: number,
    message: string,
    issues?: Issue[],
  ) {
    super(message);
    this.name = "AppError";
    this.issues = issues && capIssues(issues);
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
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(415, message);
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

/** "168", "120 characters", "2 items": a bound as a person reads it. */
function bound(n: unknown, origin: unknown): string {
  return origin === "string"
    ? `${n} characters`
    : origin === "array" || origin === "set"
    ? `${n} items`
    : String(n);
}

function oneOf(values: readonly unknown[]): string {
  return `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
}

/**
 * What a failed check says when its schema gives no message of its own, keyed
 * on the issue's code: "must be at most 168" rather than zod's "Too big:
 * expected number to be <=168". Codes not named here keep zod's words.
 */
function readableMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "too_big":
      return `must be at most ${bound(issue.maximum, issue.origin)}`;
    case "too_small":
      return issue.origin === "string" && issue.minimum === 1
        ? "must not be empty"
        : `must be at least ${bound(issue.minimum, issue.origin)}`;
    case "invalid_type":
      return issue.input === undefined
        ? "required"
        : `must be ${
          /^[aeiou]/.test(issue.expected) ? "an" : "a"
        } ${issue.expected}`;
    case "invalid_union": {
      // A discriminated union names the values its key may take.
      const options = (issue as { options?: unknown }).options;
      return Array.isArray(options) && options.length
        ? oneOf(options)
        : undefined;
    }
    case "invalid_value":
      return oneOf(issue.values);
    default:
      return undefined;
  }
}

// Every parse in the app (and in its tests) says it this way; a schema's own message still wins.
z.config({ customError: readableMessage });

/** Turns zod issues into field-named messages a person can act on. */
export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.flatMap((i) => {
    const at = i.path.map(String);
    // One issue per field that is not part of the request, named by its path.
    if (i.code === "unrecognized_keys") {
      return i.keys.map((key) => ({
        path: [...at, key.length > 60 ? key.slice(0, 60) + "…" : key]
          .join("."),
        message: "is not a field of this request",
      }));
    }
    return [{ path: at.join(".") || "(body)", message: i.message }];
  });
}

export function validationError(
  error: z.ZodError,
  what = "request body",
): BadRequestError {
  const issues = capIssues(zodIssues(error));
  const summary = issues.map((i) =>
    i.path === "(more)" ? i.message : `${i.path}: ${i.message}`
  ).join("; ");
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
