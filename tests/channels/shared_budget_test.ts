/**
 * One provider budget across processes: two processes on one KV Connect
 * database, each sending as fast as its callers ask, together stay within a
 * provider that allows 5 requests in each fixed one-second window — no 429,
 * and no window over the limit.
 */
import assert from "node:assert/strict";
import { startResendFake } from "../fakes/resend_server.ts";
import { startKvConnectFake } from "../fakes/kv_connect_server.ts";

const WORKER = new URL("./_budget_worker.ts", import.meta.url).pathname;
const PER_PROCESS = 12;

Deno.test({
  name:
    "two processes sharing one KV keep together to the provider's rate: zero 429s",
  sanitizeResources: false,
  async fn() {
    const kvc = startKvConnectFake();
    const resend = await startResendFake();
    resend.rateLimit = 5;
    resend.latencyMs = 20;
    try {
      const children = ["a", "b"].map((label) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--no-check",
            WORKER,
            kvc.url,
            resend.url,
            label,
            String(PER_PROCESS),
            "4",
          ],
          env: { DENO_KV_ACCESS_TOKEN: kvc.token },
          stdin: "piped",
          stdout: "piped",
          stderr: "inherit",
        }).spawn()
      );
      const outputs = children.map((c) => c.output());
      // Give both time to start and open the database, then start them together.
      await new Promise((r) => setTimeout(r, 2_000));
      const go = new TextEncoder().encode("go\n");
      for (const c of children) {
        const w = c.stdin.getWriter();
        await w.write(go);
        await w.close();
      }
      const results = await Promise.all(outputs);
      for (const r of results) {
        assert.ok(r.success);
        const last = new TextDecoder().decode(r.stdout).trim().split("\n")
          .at(-1)!;
        assert.deepEqual(JSON.parse(last), { failed: 0 });
      }
      assert.equal(resend.rejected429, 0);
      assert.equal(resend.delivered.length, 2 * PER_PROCESS);
      // No fixed one-second window saw more than 5 requests.
      const perWindow = new Map<number, number>();
      for (const r of resend.requests) {
        const w = Math.floor(r.at / 1000);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      assert.ok(Math.max(...perWindow.values()) <= 5);
      // Both sent at once, so the shared pace is what held them back.
      const first = Math.min(...resend.requests.map((r) => r.at));
      const last = Math.max(...resend.requests.map((r) => r.at));
      assert.ok(last - first >= (2 * PER_PROCESS - 1) * 200 * 0.95);
    } finally {
      await resend.close();
      await kvc.close();
    }
  },
});
