/** Lower-case hex of bytes, and of a string's SHA-256 (what KV keeps in place of a secret). */
const encoder = new TextEncoder();

export function encodeHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(
    bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

export async function sha256Hex(s: string): Promise<string> {
  return encodeHex(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
}
