/**
 * Reading a request's body: JSON or a form, each with its 415 for another
 * content type and its 400 for a body that cannot be read, in words the
 * caller can act on.
 */
import {
  AppError,
  BadRequestError,
  quote,
  UnsupportedMediaTypeError,
} from "../errors.ts";

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const FORM_TYPE =
  /^(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

/** Whether a request's body is declared as JSON. */
export function isJsonRequest(req: Request): boolean {
  return JSON_TYPE.test(req.headers.get("content-type") ?? "");
}

/** Whether a request's body is declared as an HTML form. */
export function isFormRequest(req: Request): boolean {
  return FORM_TYPE.test(req.headers.get("content-type") ?? "");
}

function declaredType(req: Request): string {
  const type = req.headers.get("content-type");
  return type ? quote(type, 80) : "none";
}

/** The 415 for a JSON endpoint sent anything else. */
export function sendJsonError(req: Request): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError(
    `send the body as JSON with Content-Type: application/json (got ${
      declaredType(req)
    })`,
  );
}

/** The 415 for a form handler sent anything else. */
export function sendFormError(req: Request): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError(
    `send the form as application/x-www-form-urlencoded or multipart/form-data (got ${
      declaredType(req)
    })`,
  );
}

/**
 * The body as text. A body refused on the way in (too large, too slow) keeps
 * its own answer; one whose connection broke off is a 400, not a 500.
 */
export async function readBodyText(req: Request): Promise<string> {
  try {
    return await req.text();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw bodyCutShortError();
  }
}

/** A body that ended before its declared length, or whose connection closed mid-way. */
export function bodyCutShortError(): BadRequestError {
  return new BadRequestError(
    "the request body was cut short: it ended before its declared length",
  );
}

/** Reads a JSON body: 415 for another content type, 400 for an empty body or bad JSON. */
export async function readJson(req: Request): Promise<unknown> {
  if (!isJsonRequest(req)) throw sendJsonError(req);
  const text = await readBodyText(req);
  if (!text.trim()) {
    throw new BadRequestError("the body is empty: send a JSON object");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(
      `body is not valid JSON: ${(err as Error).message.slice(0, 200)}`,
    );
  }
}

/** Like `readJson`, for endpoints whose body is optional: no body at all reads as `{}`. */
export async function readOptionalJson(req: Request): Promise<unknown> {
  if (!req.body || req.headers.get("content-length") === "0") return {};
  if (!req.headers.has("content-type")) {
    const text = await readBodyText(req);
    if (!text.trim()) return {};
    throw sendJsonError(req);
  }
  return await readJson(req);
}

/** Reads a form body: 415 for another content type, 400 when it cannot be decoded. */
export async function readForm(req: Request): Promise<FormData> {
  if (!isFormRequest(req)) throw sendFormError(req);
  try {
    return await req.formData();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new BadRequestError(
      "the form could not be read: send it as the page's form does",
    );
  }
}
