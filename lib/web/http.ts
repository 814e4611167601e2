/**
 * HTTP answers: the redirect every form and gate answers with, the no-store
 * rule for route answers, and what an upstream's answer says (how long it
 * asked us to wait, its own words for an error).
 */

/** A 303 "see other" to `location`, with any extra headers (e.g. `set-cookie`). */
export function redirect(
  location: string,
  extra?: Record<string, string>,
): Response {
  const headers = new Headers(extra);
  headers.set("location", location);
  return new Response(null, { status: 303, headers });
}

/**
 * Route answers are per user (pages carry the user's data and CSRF token): no
 * browser or proxy may keep them, so Back after sign-out shows nothing. An
 * answer that already says how to cache keeps its own rule.
 */
export function noStore(res: Response): Response {
  if (res.headers.has("cache-control")) return res;
  try {
    res.headers.set("cache-control", "no-store");
    return res;
  } catch {
    // Immutable headers (e.g. a fetched response): answer with a copy.
    const copy = new Response(res.body, res);
    copy.headers.set("cache-control", "no-store");
    return copy;
  }
}

type HeaderSource = Headers | Record<string, string> | null | undefined;

function header(h: HeaderSource, name: string): string | undefined {
  if (!h) return undefined;
  return h instanceof Headers ? h.get(name) ?? undefined : h[name];
}

/**
 * `Retry-After` (seconds or an HTTP date), else `ratelimit-reset` (seconds),
 * as milliseconds; undefined when neither says.
 */
export function retryAfterMs(
  headers: HeaderSource,
  now = Date.now(),
): number | undefined {
  const retryAfter = header(headers, "retry-after");
  if (retryAfter) {
    const s = Number(retryAfter);
    if (Number.isFinite(s) && s >= 0) return Math.ceil(s * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const reset = header(headers, "ratelimit-reset");
  const r = Number(reset);
  if (reset && Number.isFinite(r) && r >= 0) return Math.ceil(r * 1000);
  return undefined;
}

/** The `error` of a JSON answer, else the start of its text, else the status text. */
export async function upstreamErrorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (typeof body?.error === "string") return body.error;
  } catch {
    // not JSON: the text itself is the best description
  }
  return text.slice(0, 300) || res.statusText;
}
