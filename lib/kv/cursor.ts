/**
 * Page cursors come back from the browser; KV accepts only its own canonical
 * url-safe base64 and throws a TypeError (a 500) for anything else.
 */
import { BadRequestError } from "../errors.ts";

/** A cursor fit for `kv.list`, undefined when absent; anything else is a 400. */
export function listCursor(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  if (raw.length <= 2048 && /^[A-Za-z0-9_-]+={0,2}$/.test(raw)) {
    const standard = raw.replaceAll("-", "+").replaceAll("_", "/");
    try {
      // Canonical only: a round trip must give the same text back.
      if (btoa(atob(standard)) === standard) return raw;
    } catch {
      // not base64 at all
    }
  }
  throw new BadRequestError(
    "invalid cursor: pass back a cursor this app returned",
    [
      { path: "cursor", message: "is not a cursor this app returned" },
    ],
  );
}
