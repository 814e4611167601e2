/**
 * CSRF: a state-changing request from a browser must come from this site
 * (Origin, or Sec-Fetch-Site where Origin is absent), and a form posted with a
 * session must echo the session's token in `_csrf`.
 */
import { ForbiddenError } from "../errors.ts";
import { secretsEqual } from "./compare.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

export async function checkCsrf(
  req: Request,
  url: URL,
  publicUrl: string,
  sessionToken: string | null,
): Promise<void> {
  if (SAFE.has(req.method)) return;
  const origin = req.headers.get("origin");
  const fetchSite = req.headers.get("sec-fetch-site");
  const allowed = new Set([url.origin, new URL(publicUrl).origin]);
  if (origin !== null) {
    if (!allowed.has(origin)) {
      throw new ForbiddenError(`cross-site request refused (origin ${origin})`);
    }
  } else if (fetchSite !== null) {
    if (fetchSite !== "same-origin" && fetchSite !== "none") {
      throw new ForbiddenError("cross-site request refused");
    }
  }
  // Neither header: not a browser (browsers send Origin on every POST), so no
  // cross-site forgery is possible; the mobile app registers push tokens this way.
  if (sessionToken && FORM.test(req.headers.get("content-type") ?? "")) {
    const form = await req.clone().formData().catch(() => null);
    const sent = form?.get("_csrf");
    if (typeof sent !== "string" || !(await secretsEqual(sent, sessionToken))) {
      throw new ForbiddenError(
        "the form's security token is missing or stale: reload the page and try again",
      );
    }
  }
}
