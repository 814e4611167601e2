/**
 * Where sign-in sends the user afterwards. Only a path on this site; the
 * result is the URL parser's percent-encoded form, so it is always a valid
 * Location header value.
 */
const BASE = "http://next.invalid";
/** Longer than any address of this app; what a sign-in email row carries. */
export const MAX_NEXT_LENGTH = 2048;
// deno-lint-ignore no-control-regex
const SAME_SITE_PATH = /^\/(?![/\\])[^\s\\\x00-\x1f\x7f]*$/;

export function safeNext(v: string | null | undefined): string {
  // `//host`, `/\host` and tab/newline tricks would leave the site; control characters never belong.
  if (!v || v.length > MAX_NEXT_LENGTH || !SAME_SITE_PATH.test(v)) return "/";
  try {
    const url = new URL(v, BASE);
    const path = url.pathname + url.search + url.hash;
    // Dot segments can collapse `/..//host` into `//host`: check again after parsing.
    return url.origin === BASE && !path.startsWith("//") &&
        path.length <= MAX_NEXT_LENGTH
      ? path
      : "/";
  } catch {
    return "/";
  }
}

/** The sign-in page, told to come back to `next` (a path and its query; the home page needs no telling). */
export function signInUrl(next: string): string {
  return next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`;
}
