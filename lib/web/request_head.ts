/**
 * The request head as the connection guard reads it: complete within the
 * guard's time and size, one way to read its body's length, and rewritten
 * for the server behind the guard (one request a connection, the peer named
 * by the guard). Small and hand-written because no kept HTTP/1 parser runs
 * on a Deno.Conn in this way.
 */

/** The front's word on who connected; any copy sent by a client is dropped. */
export const PEER_HEADER = "x-kiloclaw-peer";
/** A request head larger than this is refused (431). */
export const MAX_HEAD_BYTES = 16 * 1024;

export interface Head {
  bytes: Uint8Array;
  /** Bytes read past the head: the start of the body. */
  rest: Uint8Array;
  contentLength: number | null;
}

export class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const CRLF2 = [13, 10, 13, 10];

/** Reads the request head and rewrites it: one request, the peer named by the front. */
export async function readHead(
  conn: Deno.Conn,
  peer: Deno.NetAddr,
): Promise<Head> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  let end = -1;
  while (end < 0) {
    const n = await conn.read(chunk);
    if (n === null) {
      throw new Deno.errors.ConnectionReset("closed before its head");
    }
    const grown = new Uint8Array(buffer.length + n);
    grown.set(buffer);
    grown.set(chunk.subarray(0, n), buffer.length);
    const from = Math.max(0, buffer.length - 3);
    buffer = grown;
    end = indexOf(buffer, CRLF2, from);
    if (end < 0 && buffer.length > MAX_HEAD_BYTES) {
      throw new Refusal(431, "request head too large");
    }
  }
  if (end > MAX_HEAD_BYTES) throw new Refusal(431, "request head too large");
  const text = new TextDecoder("latin1").decode(buffer.subarray(0, end));
  const [requestLine, ...fields] = text.split("\r\n");
  if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(requestLine)) {
    throw new Refusal(400, "not an HTTP/1 request");
  }
  const kept: string[] = [];
  const lengths = new Set<string>();
  let chunked = false;
  for (const field of fields) {
    const colon = field.indexOf(":");
    if (colon <= 0 || /^\s/.test(field)) {
      throw new Refusal(400, "malformed header field");
    }
    const name = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    if (name === "content-length") lengths.add(value);
    if (name === "transfer-encoding") chunked = true;
    if (
      name === PEER_HEADER || name === "connection" || name === "keep-alive" ||
      name === "upgrade" || name === "proxy-connection"
    ) continue;
    kept.push(field);
  }
  // Both, or lengths that disagree, are how requests are smuggled past a front.
  if (lengths.size > 1 || (lengths.size === 1 && chunked)) {
    throw new Refusal(400, "conflicting body length");
  }
  const declared = lengths.size ? [...lengths][0] : null;
  if (declared !== null && !/^\d{1,15}$/.test(declared)) {
    throw new Refusal(400, "bad content-length");
  }
  const host = peer.hostname.includes(":")
    ? `[${peer.hostname}]`
    : peer.hostname;
  const rewritten = [
    requestLine,
    ...kept,
    `${PEER_HEADER}: ${host}:${peer.port}`,
    "connection: close",
    "",
    "",
  ].join("\r\n");
  return {
    bytes: new TextEncoder().encode(rewritten),
    rest: buffer.subarray(end + 4),
    contentLength: declared === null ? (chunked ? null : 0) : Number(declared),
  };
}

function indexOf(haystack: Uint8Array, needle: number[], from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
