/**
 * The app in a child process under a low open-file limit: more idle
 * connections than that limit come and go, and the app still answers
 * `/healthz` — with its own connection cap, and with the cap lifted so that
 * accepting really runs out of descriptors.
 */
import assert from "node:assert/strict";

const LIMIT = 200;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function startApp(env: Record<string, string>) {
  const port = freePort();
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n ${LIMIT} && exec "$0" run -A main.ts`,
      Deno.execPath(),
    ],
    env: {
      ...env,
      PORT: String(port),
      KV_PATH: ":memory:",
      DEMO_SEED: "false",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const decoder = new TextDecoder();
  let listening!: () => void;
  const ready = new Promise<void>((r) => listening = r);
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      const text = decoder.decode(chunk);
      output.push(text);
      if (/listening/i.test(output.join(""))) listening();
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  await Promise.race([
    ready,
    status.then(() => {
      throw new Error(`the app exited at start:\n${output.join("")}`);
    }),
  ]);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    output,
    alive: () => !exited,
    async stop() {
      if (!exited) child.kill("SIGKILL");
      await status;
      await drained;
    },
  };
}

async function healthz(origin: string): Promise<number> {
  // Not a speed: without an answer in 10 s the app is stalled.
  const res = await fetch(`${origin}/healthz`, {
    signal: AbortSignal.timeout(10_000),
  });
  await res.body?.cancel();
  return res.status;
}

/** Opens `count` connections that send half a head and nothing more. */
async function idleConnections(port: number, count: number) {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\n")).catch(
      () => {},
    );
    conns.push(conn);
  }
  return {
    close() {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by the app */ }
      }
    },
  };
}

for (
  const [name, env, logged] of [
    ["with its own connection cap", {}, null],
    ["with the cap lifted, so that accepting runs out of descriptors", {
      MAX_CONNECTIONS: "100000",
    }, /cannot accept connections for now.*Too many open files/],
  ] as const
) {
  Deno.test({
    name:
      `under ulimit -n ${LIMIT}, ${name}: idle connections past the limit come and go, /healthz still answers`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const app = await startApp(env);
      // A stalled app would hold this test forever: past a minute it is a failure.
      const stalled = setTimeout(() => app.stop(), 60_000);
      try {
        assert.equal(await healthz(app.origin), 200);
        for (let round = 0; round < 2; round++) {
          const idle = await idleConnections(app.port, LIMIT * 2);
          // Newcomers get through while the idle ones hold on.
          assert.equal(await healthz(app.origin), 200, app.output.join(""));
          idle.close();
          await new Promise((r) => setTimeout(r, 300));
          assert.equal(await healthz(app.origin), 200, app.output.join(""));
        }
        assert.ok(app.alive(), app.output.join(""));
        if (logged) assert.match(app.output.join(""), logged);
        assert.doesNotMatch(
          app.output.join(""),
          /Uncaught|Too many open files \(os error 24\)\n\s+at/,
        );
      } finally {
        clearTimeout(stalled);
        await app.stop();
      }
    },
  });
}
