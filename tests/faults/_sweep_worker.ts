/**
 * A sweeping process for the fault tests: the app's own context on a shared
 * KV file, email through the real Resend SDK to a local stand-in, sweeping
 * every 100 ms on the real clock until nothing is due or held.
 *
 * It prints "phase <name> <n>" after each step the sweep's protocol has
 * (claimed, sealed, accepted, stored, marked) and, when told to pause at one,
 * prints "paused" and stops there, to be killed with SIGKILL.
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { createAppContext } from "@/lib/app_context.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { keys } from "@/lib/kv/keys.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import type { EmailSender } from "@/lib/channels/types.ts";
import type { NoticeGroup, Notification } from "@/lib/types.ts";

setQuietLogs(true);
const [kvPath, resendUrl, pauseArg, maxMsArg] = Deno.args;
const pause = pauseArg === "-"
  ? null
  : { phase: pauseArg.split(":")[0], nth: Number(pauseArg.split(":")[1]) };
const maxMs = Number(maxMsArg ?? 60_000);

const counts = new Map<string, number>();
async function phase(name: string): Promise<void> {
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  console.log(`phase ${name} ${n}`);
  if (pause && pause.phase === name && pause.nth === n) {
    console.log("paused");
    // Held here (a timer keeps the process alive) until the test kills it.
    await new Promise((r) => setTimeout(r, 3_600_000));
  }
}

/** The phases a commit completes, read from what it writes. */
function phasesOf(key: Deno.KvKey, value: unknown): string[] {
  if (key[0] === "notice_groups") {
    const g = value as NoticeGroup | null;
    if (g?.state === "sealed" && g.outcomes) return ["stored"];
    if (g?.state === "sealed") return ["sealed"];
  }
  if (key[0] === "notifications") {
    const r = value as Notification | null;
    if (r?.status === "sending") return ["claimed"];
    if (r?.status === "sent") return ["marked"];
  }
  return [];
}

function observed(kv: Deno.Kv): Deno.Kv {
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const seen = new Set<string>();
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "set") {
          return (k: Deno.KvKey, v: unknown, o?: { expireIn?: number }) => {
            for (const p of phasesOf(k, v)) seen.add(p);
            target.set(k, v, o);
            return proxy;
          };
        }
        if (prop === "commit") {
          return async () => {
            const res = await target.commit();
            if (res.ok) { for (const p of seen) await phase(p); }
            return res;
          };
        }
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          (v as (...a: unknown[]) => unknown).apply(target, args);
          return proxy;
        };
      },
    });
    return proxy;
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapOp(target.atomic());
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Marks the moment the provider's answer is back, before the sweep stores it. */
function observedSender(inner: EmailSender): EmailSender {
  return {
    name: inner.name,
    async send(m, o) {
      const res = await inner.send(m, o);
      if (res.ok) await phase("accepted");
      return res;
    },
    async sendBatch(m, o) {
      const res = await inner.sendBatch(m, o);
      if (res.ok) await phase("accepted");
      return res;
    },
  };
}

const config = parseConfig({
  KV_PATH: kvPath,
  DEMO_SEED: "false",
  RESEND_API_KEY: "re_test_key",
  RESEND_BASE_URL: resendUrl,
  EMAIL_RATE_PER_SECOND: "1000",
  // Short, so recovery comes soon after a kill; not shorter: the send's
  // timeout is half the lease, and a send that times out for a row the
  // killed sweepers already claimed five times is given up, not retried
  // (a fresh process's first call on a busy machine can take 500 ms).
  NOTICE_LEASE_SECONDS: "2",
});
const raw = await openKv(config);
const kv = observed(raw);
const base = createAppContext(config, kv);
const email = observedSender(base.email);
const ctx = createAppContext(config, kv);
ctx.email = email;
const dispatchers = (await import("@/lib/channels/mod.ts"))
  .createDispatchers({ config, kv, email, now: Date.now });
// Groups of 10: many groups, so a kill always finds work in flight.
ctx.dispatchers = {
  ...dispatchers,
  email: { ...dispatchers.email, maxGroupSize: 10 },
};
console.log("ready");

async function busy(): Promise<boolean> {
  for await (
    const _ of raw.list({ prefix: keys.notificationsDue() }, { limit: 1 })
  ) {
    return true;
  }
  for await (
    const _ of raw.list({ prefix: keys.noticeGroupLeases() }, { limit: 1 })
  ) {
    return true;
  }
  return false;
}

const started = Date.now();
while (Date.now() - started < maxMs) {
  await sweep(ctx, { leaseMs: 2_000, pageSize: 20, concurrency: 1 }).catch((
    err,
  ) => console.log(`error ${err}`));
  if (!(await busy())) break;
  await new Promise((r) => setTimeout(r, 100));
}
raw.close();
console.log("done");
