/**
 * KV_PATH may be a KV Connect URL (Deno Deploy's KV from outside, or a
 * self-hosted denokv). Two app processes on one KV Connect database (a local
 * server speaking the protocol) share everything: a sign-in asked for on one
 * is sent by it and followed on the other, a sweep run on one is what the
 * other's /healthz reports. Nothing needs KV queues, which KV Connect lacks.
 */
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { startKvConnectFake } from "../fakes/kv_connect_server.ts";

const ADMIN_TOKEN = "kv-connect-admin-token-0123456789";

Deno.test("config: a KV Connect URL needs DENO_KV_ACCESS_TOKEN", () => {
  const url = "https://api.deno.com/v2/databases/0000/connect";
  assert.throws(
    () => parseConfig({ KV_PATH: url }),
    (err) =>
      err instanceof ConfigError &&
      /DENO_KV_ACCESS_TOKEN: required when KV_PATH is a KV Connect URL/.test(
        err.message,
      ),
  );
  const c = parseConfig({ KV_PATH: url, DENO_KV_ACCESS_TOKEN: "ddo_x" });
  assert.equal(c.kvPath, url);
  assert.ok(!JSON.stringify(c).includes("ddo_x"), "the token is Deno's alone");
});

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls until `fn` answers something (bounded, then fails). */
async function eventually<T>(
  what: string,
  fn: () => Promise<T | null | undefined>,
): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn().catch(() => null);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function startApp(kvUrl: string, token: string) {
  const port = freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", "main.ts"],
    env: {
      KV_PATH: kvUrl,
      DENO_KV_ACCESS_TOKEN: token,
      PORT: String(port),
      PUBLIC_URL: origin,
      ADMIN_API_TOKEN: ADMIN_TOKEN,
      DEMO_SEED: "false",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  return { origin, child };
}

Deno.test({
  name:
    "two processes on one KV Connect database share sign-in, sweeps and health",
  sanitizeResources: false,
  async fn() {
    const fake = startKvConnectFake();
    const a = startApp(fake.url, fake.token);
    const b = startApp(fake.url, fake.token);
    try {
      for (const app of [a, b]) {
        await eventually(
          "the app to answer",
          async () => (await fetch(`${app.origin}/healthz`)).ok,
        );
      }
      const email = `kvc-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const put = await fetch(`${a.origin}/api/admin/users/kvc-user`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ email, name: "Kay Connect" }),
      });
      assert.equal(put.status, 200, await put.text());

      // Asked for on B, sent by B (no queue), followed on A.
      const login = await fetch(`${b.origin}/login`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: b.origin,
        },
        body: new URLSearchParams({ email }).toString(),
      });
      assert.equal(login.status, 200);
      await login.body?.cancel();
      Deno.env.set("DENO_KV_ACCESS_TOKEN", fake.token);
      const kv = await openKv({ kvPath: fake.url });
      try {
        const link = await eventually("the sign-in email", async () => {
          const { items } = await listOutbox(kv, { limit: 20 });
          const mail = items.find((m) => m.kind === "email" && m.to === email);
          return mail?.kind === "email"
            ? mail.text.match(/\/login\/[A-Za-z0-9_-]+/)?.[0]
            : null;
        });
        const follow = await fetch(`${a.origin}${link}`, {
          redirect: "manual",
        });
        assert.equal(follow.status, 303);
        const cookie = follow.headers.get("set-cookie")!.split(";")[0];
        await follow.body?.cancel();
        const home = await fetch(`${a.origin}/`, { headers: { cookie } });
        assert.equal(home.status, 200, "signed in on the other process");
        await home.body?.cancel();
        const rows = await Array.fromAsync(
          kv.list({ prefix: ["sign_in_emails"] }),
        );
        assert.deepEqual(rows, [], "the row is gone once sent");
      } finally {
        kv.close();
      }

      // A sweep on A is what B's health reports.
      const sweep = await fetch(`${a.origin}/api/admin/notices/sweep`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const report = await sweep.json();
      assert.equal(sweep.status, 200);
      const health = await (await fetch(`${b.origin}/healthz`)).json();
      assert.equal(health.lastSweepAt, report.finishedAt);
      assert.equal(fake.requests.refused, 0, "no KV queue was asked for");
    } finally {
      for (const app of [a, b]) {
        app.child.kill("SIGTERM");
        await app.child.status;
      }
      await fake.close();
    }
  },
});
