/**
 * The review shows its email in a sandboxed frame. The page's CSP forbids
 * inline styles (and a `srcdoc` frame inherits it), so the HTML is kept for a
 * while under its content hash and served from its own path with the strict
 * email-frame CSP (lib/web/security.ts), as the outbox does for sent mail.
 */
import { keys } from "../kv/keys.ts";
import type { SchedulePreview } from "./preview_model.ts";

const KEEP_MS = 2 * 3_600_000;
const MAX_BYTES = 60_000;

export const EMAIL_PREVIEW_PATH = "/admin/previews/";

async function hashOf(html: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(html),
  );
  return Array.from(
    new Uint8Array(digest).slice(0, 16),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Keeps the sample email's HTML and sets the frame's URL on the preview. */
export async function withEmailFrame(
  kv: Deno.Kv,
  preview: SchedulePreview,
): Promise<SchedulePreview> {
  const email = preview.sample?.email;
  if (!email || new TextEncoder().encode(email.html).length > MAX_BYTES) {
    return preview;
  }
  const hash = await hashOf(email.html);
  await kv.set(keys.emailPreview(hash), email.html, { expireIn: KEEP_MS });
  email.frameUrl = `${EMAIL_PREVIEW_PATH}${hash}`;
  return preview;
}

export async function getEmailPreview(
  kv: Deno.Kv,
  hash: string,
): Promise<string | null> {
  if (!/^[0-9a-f]{32}$/.test(hash)) return null;
  return (await kv.get<string>(keys.emailPreview(hash))).value;
}
