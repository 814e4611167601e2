/**
 * CSRF. A state-changing request from a browser must come from the app's own
 * origin, which is `PUBLIC_URL`'s and nothing the request says about itself
 * (a `Host` header is the caller's to choose). Browsers tell us where a
 * request comes from with `Origin`, and with `Sec-Fetch-Site`; both must
 * agree. A page form posted with a session must also echo the session's
 * token in `_csrf`.
 *
 * Pages are compressed, so the token is never printed as it is: every answer
 * carries it XORed with a fresh random pad, pad first (`maskCsrfToken`), as
 * Rails and Django do. Otherwise an attacker who can put text in a page (a
 * search) could learn the token byte by byte from how well the page
 * compresses (BREACH); masked, its bytes differ on every page.
 */
import { AppError, BadRequestError, ForbiddenError, quote } from "../errors.ts";
import { isFormRequest, sendFormError } from "../web/request_body.ts";
import { secretsEqual } from "./compare.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE.has(method.toUpperCase());
}

/** Refuses a state-changing request a browser sent from anywhere but `publicUrl`'s origin. */
export function checkOrigin(req: Request, publicUrl: string): void {
  if (isSafeMethod(req.method)) return;
  const own = new URL(publicUrl).origin;
  const origin = req.headers.get("origin");
  const fetchSite = req.headers.get("sec-fetch-site");
  if (origin !== null && origin !== own) {
    throw new ForbiddenError(
      `cross-site request refused: changes are accepted from ${own} only (this one came from ${
        quote(origin, 100)
      })`,
    );
  }
  // "none" is the user's own doing (a bookmark, the address bar), "same-origin" is us.
  if (
    fetchSite !== null && fetchSite !== "same-origin" && fetchSite !== "none"
  ) {
    throw new ForbiddenError(
      `cross-site request refused: changes are accepted from ${own} only (the browser says this one is ${
        quote(fetchSite, 40)
      })`,
    );
  }
  // Neither header: not a browser (browsers send Origin on every POST), so no
  // cross-site forgery is possible; the mobile app registers push tokens this way.
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The session's token as one page carries it: a random pad, then the token XORed with it. */
export function maskCsrfToken(sessionToken: string): string {
  const token = encoder.encode(sessionToken);
  const masked = new Uint8Array(token.length * 2);
  crypto.getRandomValues(masked.subarray(0, token.length));
  for (let i = 0; i < token.length; i++) {
    masked[token.length + i] = masked[i] ^ token[i];
  }
  return toBase64Url(masked);
}

/** The session token inside a masked one; null when `masked` is not one. */
export function unmaskCsrfToken(masked: string): string | null {
  const bytes = fromBase64Url(masked);
  if (!bytes || bytes.length === 0 || bytes.length % 2) return null;
  const half = bytes.length / 2;
  const token = new Uint8Array(half);
  for (let i = 0; i < half; i++) token[i] = bytes[i] ^ bytes[half + i];
  try {
    return decoder.decode(token);
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[\w-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    // One spelling per token: a last character that differs only in unused bits is another token.
    return toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * The CSRF step every request goes through: the origin check, and for a page
 * request made with a session (`formToken`, the masked token its pages carry),
 * the form's token. API endpoints
 * pass no token: they take JSON only (415 to anything else), which no
 * cross-site form can send.
 */
export async function refuseCrossSite(
  req: Request,
  publicUrl: string,
  formToken: string | null,
): Promise<void> {
  checkOrigin(req, publicUrl);
  if (formToken && !isSafeMethod(req.method)) {
    await checkFormToken(req, formToken);
  }
}

/**
 * A page POST made with a session must be one of our forms: the form's
 * content type (415 otherwise), readable (400), with the session's token (403),
 * masked by any page (`pageToken` is one) or as it is.
 * (Pages take no other state-changing method, and no browser sends PUT or
 * DELETE across sites without a CORS grant this app never gives.)
 */
export async function checkFormToken(
  req: Request,
  pageToken: string,
): Promise<void> {
  if (req.method.toUpperCase() !== "POST") return;
  if (!isFormRequest(req)) throw sendFormError(req);
  const form = await req.clone().formData().catch((err) => {
    if (err instanceof AppError) throw err; // too large or too slow: its own answer
    return null;
  });
  if (!form) {
    throw new BadRequestError(
      "the form could not be read: send it as the page's form does",
    );
  }
  const sessionToken = unmaskCsrfToken(pageToken);
  if (sessionToken === null) {
    throw new Error("checkFormToken takes a token made by maskCsrfToken");
  }
  const sent = form.get("_csrf");
  if (
    typeof sent !== "string" ||
    !(await secretsEqual(unmaskCsrfToken(sent) ?? sent, sessionToken) ||
      await secretsEqual(sent, sessionToken))
  ) {
    throw new ForbiddenError(
      "the form's security token is missing or stale: reload the page and try again",
    );
  }
}
