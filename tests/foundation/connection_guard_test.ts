/**
 * The connection guard, on real sockets: a head that never completes and a
 * declared body that never arrives cost a connection only for their time;
 * at the connection cap the longest-waiting half-sent heads make room for
 * newcomers; the peer the app sees is the one that connected, whatever a
 * client claims; requests that could be read two ways are refused.
 */
import assert from "node:assert/strict";
import {
  defaultMaxConnections,
  serveGuarded,
} from "@/lib/web/connection_guard.ts";
import { PEER_HEADER } from "@/lib/web/request_head.ts";
import { createTestApp } from "../helpers/app.ts";

/** Fails if `work` has not settled after `ms`: here a hang, not a speed. */
async function within<T>(work: Promise<T>, ms: number, what: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: still open`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything the server sends until it closes the connection. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const parts: string[] = [];
  const buf = new Uint8Array(16 * 1024);
  const decoder = new TextDecoder();
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return parts.join("");
    parts.push(decoder.decode(buf.subarray(0, n)));
  }
}

function send(conn: Deno.Conn, text: string) {
  return conn.write(new TextEncoder().encode(text));
}

function guarded(
  handler: (
    req: Request,
    info: Deno.ServeHandlerInfo,
  ) => Response | Promise<Response>,
  options: {
    headersTimeoutMs?: number;
    bodyTimeoutMs?: number;
    maxConnections?: number;
  } = {},
) {
  const stop = new AbortController();
  const server = serveGuarded(handler, {
    port: 0,
    hostname: "127.0.0.1",
    signal: stop.signal,
    ...options,
  });
  const connect = () =>
    Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  return {
    server,
    connect,
    origin,
    async close() {
      stop.abort();
      await server.finished;
    },
  };
}

const echo = async (req: Request, info: Deno.ServeHandlerInfo) => {
  const body = req.body ? await req.text() : "";
  return Response.json({
    peer: (info.remoteAddr as Deno.NetAddr).hostname,
    bodyLength: body.length,
  });
};

Deno.test("a connection that never finishes its head is answered 408 and closed", async () => {
  const g = guarded(echo, { headersTimeoutMs: 300 });
  try {
    const silent = await g.connect();
    const partial = await g.connect();
    await send(partial, "GET / HTTP/1.1\r\nHost: x\r\n");
    const [a, b] = await within(
      Promise.all([readToEnd(silent), readToEnd(partial)]),
      5000,
      "a connection past its head time",
    );
    assert.match(a, /^HTTP\/1\.1 408 /);
    assert.match(b, /^HTTP\/1\.1 408 /);
    silent.close();
    partial.close();
    // A whole request still goes through.
    const res = await fetch(g.origin);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await g.close();
  }
});

Deno.test("a declared body that does not arrive in its time closes the connection", async () => {
  const g = guarded(echo, { bodyTimeoutMs: 300 });
  try {
    const conn = await g.connect();
    await send(
      conn,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
    );
    const answer = await within(readToEnd(conn), 5000, "a body past its time");
    // The app never got a whole body: whatever it said, nothing is 200.
    assert.doesNotMatch(answer, /^HTTP\/1\.1 200/);
    conn.close();
  } finally {
    await g.close();
  }
});

Deno.test("the app sees the peer that connected; a client cannot name another", async () => {
  const g = guarded(echo);
  try {
    const conn = await g.connect();
    await send(
      conn,
      `POST / HTTP/1.1\r\nHost: x\r\n${PEER_HEADER}: 203.0.113.9:1\r\n` +
        "Connection: keep-alive\r\nContent-Length: 5\r\n\r\nhello",
    );
    const answer = await within(readToEnd(conn), 5000, "an answered request");
    conn.close();
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    assert.equal(body.peer, "127.0.0.1");
    assert.equal(body.bodyLength, 5);
    // One request a connection: the answer says the connection ends.
    assert.match(answer, /\r\nconnection: close\r\n/i);
  } finally {
    await g.close();
  }
});

Deno.test("a request that could be read two ways is refused (400), an oversized head too (431)", async () => {
  const g = guarded(echo);
  try {
    const both = await g.connect();
    await send(
      both,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert.match(
      await within(readToEnd(both), 5000, "smuggling"),
      /^HTTP\/1\.1 400 /,
    );
    both.close();

    const twoLengths = await g.connect();
    await send(
      twoLengths,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    );
    assert.match(
      await within(readToEnd(twoLengths), 5000, "two lengths"),
      /^HTTP\/1\.1 400 /,
    );
    twoLengths.close();

    const huge = await g.connect();
    await send(
      huge,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    ).catch(() => {});
    assert.match(
      await within(readToEnd(huge), 5000, "huge head"),
      /^HTTP\/1\.1 431 /,
    );
    huge.close();
  } finally {
    await g.close();
  }
});

Deno.test("at the connection cap, the longest-waiting half-sent heads make room for a real request", async () => {
  const app = await createTestApp();
  const g = guarded(app.handler, { maxConnections: 8 });
  const idle: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 30; i++) {
      const conn = await g.connect();
      await send(conn, "GET /healthz HTTP/1.1\r\n"); // and nothing more
      idle.push(conn);
    }
    const res = await within(fetch(`${g.origin}/healthz`), 5000, "healthz");
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.ok(g.server.stats().open <= 8, JSON.stringify(g.server.stats()));
  } finally {
    for (const conn of idle) {
      try {
        conn.close();
      } catch { /* closed by the guard */ }
    }
    await g.close();
    await app.close();
  }
});

Deno.test("the default cap leaves descriptors for the rest of the app", () => {
  assert.equal(defaultMaxConnections(1024), 298);
  assert.equal(defaultMaxConnections(256), 42);
  assert.equal(defaultMaxConnections(100), 16);
});

Deno.test("a client that leaves mid-body, after an early answer, frees its exchange", async () => {
  // The app answers before reading the body, as it does for a body over its limit.
  const g = guarded((req) => {
    req.body?.cancel().catch(() => {});
    return new Response("too large", { status: 413 });
  });
  try {
    const clients: Deno.Conn[] = [];
    for (let i = 0; i < 20; i++) {
      const conn = await g.connect();
      await send(
        conn,
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nemail=a",
      );
      clients.push(conn);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const conn of clients) conn.close();
    // Not a speed: without the fix the exchanges stay open for good.
    for (let i = 0; i < 50 && g.server.stats().open > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(g.server.stats().open, 0);
  } finally {
    await g.close();
  }
});
