/**
 * CSRF. A state-changing request from a browser must come from the app's own
 * origin, which is `PUBLIC_URL`'s and nothing the request says about itself
 * (a `Host` header is the caller's to choose). Browsers tell us where a
 * request comes from with `Origin`, and with `Sec-Fetch-Site`; both must
 * agree. A page form posted with a session must also echo the session's
 * token in `_csrf`.
 */
import {
  AppError,
  BadRequestError,
  ForbiddenError,
  isFormRequest,
  quote,
  sendFormError,
} from "../errors.ts";
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

/**
 * The CSRF step every request goes through: the origin check, and for a page
 * request made with a session (`formToken`), the form's token. API endpoints
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
 * content type (415 otherwise), readable (400), with the session's token (403).
 * (Pages take no other state-changing method, and no browser sends PUT or
 * DELETE across sites without a CORS grant this app never gives.)
 */
export async function checkFormToken(
  req: Request,
  sessionToken: string,
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
  const sent = form.get("_csrf");
  if (typeof sent !== "string" || !(await secretsEqual(sent, sessionToken))) {
    throw new ForbiddenError(
      "the form's security token is missing or stale: reload the page and try again",
    );
  }
}
