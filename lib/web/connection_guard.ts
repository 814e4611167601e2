/**
 * The door in front of the web server when the app runs on its own host.
 * `Deno.serve` gives a connection all the time it likes to send its request
 * head, and ends the process when accepting fails for want of file
 * descriptors; Deno has no option for either, so this small TCP front does
 * both: it takes connections itself, gives each `headersTimeoutMs` to send
 * its head and `bodyTimeoutMs` after that for a declared body, keeps the
 * number open within what the descriptor limit allows (closing the longest
 * waiting half-sent heads first), pauses accepting while descriptors run
 * out, and hands each complete request to `Deno.serve` on a private Unix
 * socket, one request per connection. On Deno Deploy the platform is the door.
 */
import { log } from "../operations/log.ts";
import { BODY_TIMEOUT_MS, HEADERS_TIMEOUT_MS } from "./request_limits.ts";
import { type Head, PEER_HEADER, readHead, Refusal } from "./request_head.ts";

/** Descriptors left for KV, outbound calls and files, whatever the connections do. */
const RESERVED_DESCRIPTORS = 128;
/** An answer not taken by the client within this long is given up. */
const WRITE_TIMEOUT_MS = 30_000;

type Handler = (
  req: Request,
  info: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

export interface GuardOptions {
  port: number;
  hostname?: string;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Open connections at most; by default what the open-file limit allows. */
  maxConnections?: number;
  signal?: AbortSignal;
  onListen?: (addr: Deno.NetAddr) => void;
}

export interface GuardedServer {
  addr: Deno.NetAddr;
  /** Connections open now, and how many of them are still sending their head. */
  stats(): { open: number; waitingForHead: number; refused: number };
  finished: Promise<void>;
}

/** The soft open-file limit of this process, where the system tells it. */
export function openFileLimit(): number | null {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    return soft && soft !== "unlimited" ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** A proxied connection holds three descriptors: the client's, ours to the server, the server's. */
export function defaultMaxConnections(limit = openFileLimit()): number {
  if (limit === null) return 10_000;
  return Math.max(16, Math.floor((limit - RESERVED_DESCRIPTORS) / 3));
}

interface Open {
  conn: Deno.Conn;
  since: number;
  waitingForHead: boolean;
}

export function serveGuarded(
  handler: Handler,
  options: GuardOptions,
): GuardedServer {
  const headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  // Lowered for good when accepting finds the descriptors gone before the cap.
  let maxConnections = options.maxConnections ?? defaultMaxConnections();
  const stop = new AbortController();
  options.signal?.addEventListener("abort", () => stop.abort(), { once: true });

  const dir = Deno.makeTempDirSync({ prefix: "kiloclaw-" });
  Deno.chmodSync(dir, 0o700);
  const inner = innerServer(handler, dir, stop.signal);

  const listener = Deno.listen({
    port: options.port,
    hostname: options.hostname ?? "0.0.0.0",
  });
  const addr = listener.addr as Deno.NetAddr;
  stop.signal.addEventListener("abort", () => listener.close(), {
    once: true,
  });
  options.onListen?.(addr);

  const open = new Set<Open>();
  let refused = 0;
  /** Closes the connection that has waited longest on its head, to make room. */
  const evictSlowest = (): boolean => {
    for (const entry of open) { // insertion order: the oldest first
      if (!entry.waitingForHead) continue;
      open.delete(entry);
      closeQuietly(entry.conn);
      return true;
    }
    return false;
  };

  const acceptLoop = async () => {
    let pause = 50;
    while (!stop.signal.aborted) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        pause = 50;
      } catch (err) {
        if (stop.signal.aborted || err instanceof Deno.errors.BadResource) {
          break;
        }
        // Out of descriptors (or a like passing failure): the cap was too
        // high for this process; lower it below what is open, make room, let
        // the kernel's backlog hold newcomers for a moment, go on serving.
        const lowered = Math.max(16, open.size - 16);
        log.warn("cannot accept connections for now", {
          error: String(err),
          open: open.size,
          maxConnections: Math.min(maxConnections, lowered),
        });
        maxConnections = Math.min(maxConnections, lowered);
        while (open.size > maxConnections && evictSlowest());
        await sleep(pause);
        pause = Math.min(pause * 2, 1000);
        continue;
      }
      if (open.size >= maxConnections && !evictSlowest()) {
        refused++;
        closeQuietly(conn);
        continue;
      }
      const entry: Open = { conn, since: Date.now(), waitingForHead: true };
      open.add(entry);
      proxy(entry, inner.path, { headersTimeoutMs, bodyTimeoutMs })
        .catch(() => {})
        .finally(() => {
          open.delete(entry);
          closeQuietly(conn);
        });
    }
  };

  const finished = acceptLoop().then(async () => {
    for (const entry of open) closeQuietly(entry.conn);
    await inner.finished;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  });
  return {
    addr,
    stats: () => ({
      open: open.size,
      waitingForHead: [...open].filter((e) => e.waitingForHead).length,
      refused,
    }),
    finished,
  };
}

/** `Deno.serve` on a Unix socket only the front can reach; started again if it fails. */
function innerServer(handler: Handler, dir: string, signal: AbortSignal) {
  const path = `${dir}/http.sock`;
  const serveOnce = (): Promise<void> => {
    const server = Deno.serve({
      path,
      signal,
      onListen: () => {},
    }, (req, info) => handler(req, withPeer(req, info)));
    return server.finished.catch(async (err) => {
      if (signal.aborted) return;
      log.warn("the web server stopped; starting it again", {
        error: String(err),
      });
      await sleep(250);
      await Deno.remove(path).catch(() => {});
      if (!signal.aborted) await serveOnce();
    });
  };
  return { path, finished: serveOnce() };
}

function withPeer(
  req: Request,
  info: Deno.ServeHandlerInfo,
): Deno.ServeHandlerInfo {
  const peer = req.headers.get(PEER_HEADER);
  const split = peer?.lastIndexOf(":") ?? -1;
  const remoteAddr: Deno.NetAddr = {
    transport: "tcp",
    hostname: split > 0
      ? peer!.slice(0, split).replace(/^\[|\]$/g, "")
      : "0.0.0.0",
    port: split > 0 ? Number(peer!.slice(split + 1)) || 0 : 0,
  };
  return { ...info, remoteAddr } as Deno.ServeHandlerInfo;
}

async function proxy(
  entry: Open,
  socketPath: string,
  limits: { headersTimeoutMs: number; bodyTimeoutMs: number },
): Promise<void> {
  const client = entry.conn;
  const peer = client.remoteAddr as Deno.NetAddr;
  const head = await withDeadline(
    readHead(client, peer),
    entry.since + limits.headersTimeoutMs,
  ).catch((err) => err as Error);
  if (head instanceof Error) {
    const status = head instanceof Refusal ? head.status : 408;
    if (!(head instanceof Deno.errors.ConnectionReset)) {
      await answer(client, status).catch(() => {});
    }
    return;
  }
  entry.waitingForHead = false;
  let upstream: Deno.Conn;
  try {
    upstream = await Deno.connect({ transport: "unix", path: socketPath });
  } catch {
    await answer(client, 503).catch(() => {});
    return;
  }
  try {
    await writeAll(upstream, head.bytes);
    const bodyDeadline = Date.now() + limits.bodyTimeoutMs;
    // The answer ends the exchange, whether or not the server read the body.
    forwardBody(client, upstream, head, bodyDeadline);
    await copy(upstream, client);
  } finally {
    closeQuietly(upstream);
  }
}

/**
 * Sends the body on: a declared length exactly, and no more (the connection
 * carries one request); a chunked body until the client stops. A declared
 * body not complete by `deadline` ends the exchange. So does the client
 * closing its side at any point, as `Deno.serve` itself treats it: the
 * exchange's three descriptors are never left waiting on a client gone.
 */
async function forwardBody(
  client: Deno.Conn,
  upstream: Deno.Conn,
  head: Head,
  deadline: number,
): Promise<void> {
  let remaining = head.contentLength ?? Infinity;
  const end = () => {
    closeQuietly(client);
    closeQuietly(upstream);
  };
  let timer = head.contentLength === null || remaining === 0
    ? undefined
    : setTimeout(end, Math.max(0, deadline - Date.now()));
  try {
    const first = head.rest.subarray(0, Math.min(head.rest.length, remaining));
    if (first.length) await writeAll(upstream, first);
    remaining -= first.length;
    const chunk = new Uint8Array(remaining > 0 ? 16 * 1024 : 512);
    while (true) {
      const n = await client.read(chunk);
      if (n === null) break;
      const part = chunk.subarray(0, Math.min(n, remaining));
      if (part.length) await writeAll(upstream, part);
      remaining -= part.length;
      if (remaining === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    }
  } catch {
    // the client went away, or its time ran out
  } finally {
    clearTimeout(timer);
    end();
  }
}

async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const chunk = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(chunk);
      if (n === null) return;
      await withDeadline(
        writeAll(to, chunk.subarray(0, n)),
        Date.now() + WRITE_TIMEOUT_MS,
      );
    }
  } catch {
    // either side went away
  }
}

async function answer(conn: Deno.Conn, status: number): Promise<void> {
  const reason = {
    400: "Bad Request",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
  }[status] ?? "Error";
  await withDeadline(
    writeAll(
      conn,
      new TextEncoder().encode(
        `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      ),
    ),
    Date.now() + 1000,
  );
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Deno.errors.TimedOut("deadline passed")),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
