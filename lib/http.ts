/** What an upstream's HTTP answer says: how long it asked us to wait, and its own words for an error. */

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
