/**
 * A small KV Connect server (protocol version 2) on a local port, for
 * `Deno.openKv("http://…")` with DENO_KV_ACCESS_TOKEN: the same protocol a
 * Deno Deploy KV database or a self-hosted denokv speaks, over one in-memory
 * store shared by every client, strongly consistent (one commit at a time).
 * Keys and values are opaque bytes to it, ordered bytewise; `sum`, `min` and
 * `max` work on little-endian u64 values; expiry is honoured on reads.
 * Enqueues are refused: the app must not need KV queues.
 */

// ---- a minimal protobuf codec (varints and length-delimited fields) ----

type Field = { no: number; wire: number; int: bigint; bytes: Uint8Array };

function* readFields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error("truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      yield { no, wire, int: varint(), bytes: new Uint8Array() };
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, int: 0n, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

class Writer {
  private parts: number[] = [];
  private varint(v: bigint) {
    let n = BigInt.asUintN(64, v);
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      this.parts.push(b);
    } while (n);
  }
  int(no: number, v: number | bigint | boolean) {
    const n = typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v);
    if (n === 0n) return this;
    this.varint(BigInt(no << 3));
    this.varint(n);
    return this;
  }
  bytes(no: number, b: Uint8Array) {
    this.varint(BigInt((no << 3) | 2));
    this.varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
    return this;
  }
  packed(no: number, values: number[]) {
    if (!values.length) return this;
    const inner = new Writer();
    for (const v of values) inner.varint(BigInt(v));
    return this.bytes(no, inner.finish());
  }
  finish(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.parts);
  }
}

// ---- the store ----

interface Entry {
  key: Uint8Array;
  value: Uint8Array;
  encoding: number;
  versionstamp: Uint8Array;
  expireAt: number;
}

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const LE64 = 2;
const M_SET = 1, M_DELETE = 2, M_SUM = 3, M_MAX = 4, M_MIN = 5;

function le64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}
function toLe64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return out;
}

export interface KvConnectFake {
  /** The URL to give `Deno.openKv` (KV_PATH). */
  url: string;
  token: string;
  /** Data-path requests served, by kind. */
  requests: { snapshotRead: number; atomicWrite: number; refused: number };
  close(): Promise<void>;
}

export function startKvConnectFake(
  opts: { token?: string } = {},
): KvConnectFake {
  const token = opts.token ?? `kvc-${crypto.randomUUID()}`;
  const dataToken = `data-${crypto.randomUUID()}`;
  const databaseId = crypto.randomUUID();
  const store = new Map<string, Entry>();
  let version = 0n;
  const requests = { snapshotRead: 0, atomicWrite: 0, refused: 0 };

  const live = (e: Entry | undefined) =>
    e && (e.expireAt === 0 || e.expireAt > Date.now()) ? e : undefined;

  function snapshotRead(body: Uint8Array): Uint8Array<ArrayBuffer> {
    const out = new Writer();
    for (const f of readFields(body)) {
      if (f.no !== 1) continue;
      let start: Uint8Array = new Uint8Array();
      let end: Uint8Array = new Uint8Array([0xff]);
      let limit = 0, reverse = false;
      for (const r of readFields(f.bytes)) {
        if (r.no === 1) start = r.bytes;
        else if (r.no === 2) end = r.bytes;
        else if (r.no === 3) limit = Number(r.int);
        else if (r.no === 4) reverse = r.int !== 0n;
      }
      let found = [...store.values()].filter((e) =>
        live(e) && compare(e.key, start) >= 0 && compare(e.key, end) < 0
      ).sort((a, b) => compare(a.key, b.key));
      if (reverse) found.reverse();
      if (limit > 0) found = found.slice(0, limit);
      const range = new Writer();
      for (const e of found) {
        range.bytes(
          1,
          new Writer().bytes(1, e.key).bytes(2, e.value).int(3, e.encoding)
            .bytes(4, e.versionstamp).finish(),
        );
      }
      out.bytes(1, range.finish());
    }
    return out.int(4, true).int(8, 1).finish();
  }

  function atomicWrite(body: Uint8Array): Uint8Array<ArrayBuffer> | null {
    type Check = { key: Uint8Array; versionstamp: Uint8Array };
    const checks: Check[] = [];
    type Mutation = {
      key: Uint8Array;
      data: Uint8Array;
      encoding: number;
      type: number;
      expireAt: number;
    };
    const mutations: Mutation[] = [];
    for (const f of readFields(body)) {
      if (f.no === 1) {
        const c: Check = {
          key: new Uint8Array(),
          versionstamp: new Uint8Array(),
        };
        for (const x of readFields(f.bytes)) {
          if (x.no === 1) c.key = x.bytes;
          if (x.no === 2) c.versionstamp = x.bytes;
        }
        checks.push(c);
      } else if (f.no === 2) {
        const m: Mutation = {
          key: new Uint8Array(),
          data: new Uint8Array(),
          encoding: 0,
          type: 0,
          expireAt: 0,
        };
        for (const x of readFields(f.bytes)) {
          if (x.no === 1) m.key = x.bytes;
          else if (x.no === 2) {
            for (const v of readFields(x.bytes)) {
              if (v.no === 1) m.data = v.bytes;
              if (v.no === 2) m.encoding = Number(v.int);
            }
          } else if (x.no === 3) m.type = Number(x.int);
          else if (x.no === 4) m.expireAt = Number(x.int);
        }
        mutations.push(m);
      } else if (f.no === 3) return null;
    }
    const failed = checks.flatMap((c, i) => {
      const cur = live(store.get(hex(c.key)));
      const same = c.versionstamp.length === 0
        ? !cur
        : cur !== undefined && hex(cur.versionstamp) === hex(c.versionstamp);
      return same ? [] : [i];
    });
    if (failed.length) {
      return new Writer().int(1, 2).packed(4, failed).finish();
    }
    version++;
    const stamp = new Uint8Array(10);
    new DataView(stamp.buffer).setBigUint64(0, version, false);
    for (const m of mutations) {
      const id = hex(m.key);
      const cur = live(store.get(id));
      if (m.type === M_DELETE) {
        store.delete(id);
        continue;
      }
      let value = m.data, encoding = m.encoding;
      if (m.type === M_SUM || m.type === M_MIN || m.type === M_MAX) {
        if (m.encoding !== LE64 || (cur && cur.encoding !== LE64)) {
          throw new Error("sum, min and max need u64 values");
        }
        if (cur) {
          const a = le64(cur.value), b = le64(m.data);
          value = toLe64(
            m.type === M_SUM
              ? a + b
              : m.type === M_MIN
              ? (a < b ? a : b)
              : (a > b ? a : b),
          );
        }
        encoding = LE64;
      } else if (m.type !== M_SET) {
        throw new Error(`mutation type ${m.type} is not supported`);
      }
      store.set(id, {
        key: m.key,
        value,
        encoding,
        versionstamp: stamp,
        expireAt: m.expireAt,
      });
    }
    return new Writer().int(1, 1).bytes(2, stamp).finish();
  }

  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      const auth = req.headers.get("authorization");
      if (path === "/") {
        if (auth !== `Bearer ${token}`) {
          return new Response("invalid access token", { status: 401 });
        }
        await req.body?.cancel();
        return Response.json({
          version: 2,
          databaseId,
          endpoints: [{ url: "/v2", consistency: "strong" }],
          token: dataToken,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        });
      }
      if (auth !== `Bearer ${dataToken}`) {
        return new Response("invalid data token", { status: 401 });
      }
      const body = new Uint8Array(await req.arrayBuffer());
      const protobuf = { "content-type": "application/x-protobuf" };
      try {
        if (path === "/v2/snapshot_read") {
          requests.snapshotRead++;
          return new Response(snapshotRead(body), { headers: protobuf });
        }
        if (path === "/v2/atomic_write") {
          requests.atomicWrite++;
          const out = atomicWrite(body);
          if (!out) {
            requests.refused++;
            return new Response("KV queues are not available here", {
              status: 400,
            });
          }
          return new Response(out, { headers: protobuf });
        }
      } catch (err) {
        return new Response(String(err), { status: 400 });
      }
      return new Response("not found", { status: 404 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    token,
    requests,
    close: () => server.shutdown(),
  };
}
