/**
 * A webhook-delivering process for the fault tests: the app's delivery tick
 * on a shared KV file, every 100 ms on the real clock until nothing is left
 * to fan out, due or held.
 *
 * It prints "phase <name> <n> <event id>" after each step of a delivery (claimed: the
 * row is held; answered: the receiver answered, nothing recorded yet;
 * marked: the answer is recorded) and, when told to pause at one, prints
 * "paused" and stops there, to be killed with SIGKILL.
 *
 *   deno run -A _webhook_worker.ts <kv path> <phase:n | -> <max ms>
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { keys } from "@/lib/kv/keys.ts";
import { setQuietLogs } from "@/lib/operations/log.ts";
import { deliverWebhooks } from "@/lib/webhooks/deliveries.ts";
import type { WebhookDelivery } from "@/lib/webhooks/delivery_rows.ts";

setQuietLogs(true);
const [kvPath, pauseArg, maxMsArg] = Deno.args;
const pause = pauseArg === "-"
  ? null
  : { phase: pauseArg.split(":")[0], nth: Number(pauseArg.split(":")[1]) };
const maxMs = Number(maxMsArg ?? 60_000);

const counts = new Map<string, number>();
async function phase(name: string, eventId: string): Promise<void> {
  const n = (counts.get(name) ?? 0) + 1;
  counts.set(name, n);
  console.log(`phase ${name} ${n} ${eventId}`);
  if (pause && pause.phase === name && pause.nth === n) {
    console.log("paused");
    await new Promise((r) => setTimeout(r, 3_600_000));
  }
}

/** The KV handle, reporting the phase a committed delivery write completes. */
function observed(kv: Deno.Kv): Deno.Kv {
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const seen: [string, string][] = [];
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "set") {
          return (k: Deno.KvKey, v: unknown, o?: { expireIn?: number }) => {
            if (k[0] === "webhook_deliveries") {
              const d = v as WebhookDelivery;
              if (d.status === "sending") seen.push(["claimed", d.eventId]);
              if (d.status === "delivered") seen.push(["marked", d.eventId]);
            }
            target.set(k, v, o);
            return proxy;
          };
        }
        if (prop === "commit") {
          return async () => {
            const res = await target.commit();
            if (res.ok) { for (const [p, id] of seen) await phase(p, id); }
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

const config = parseConfig({
  KV_PATH: kvPath,
  DEMO_SEED: "false",
  ALLOW_HTTP_WEBHOOKS: "true",
  // Short, so recovery comes soon after a kill; the request's timeout is
  // half of it (1 s), far more than a loopback receiver needs.
  NOTICE_LEASE_SECONDS: "2",
});
const raw = await openKv(config);
const kv = observed(raw);
console.log("ready");

async function busy(): Promise<boolean> {
  for (
    const prefix of [
      keys.webhookEvents(),
      keys.webhookDeliveriesDue(),
      keys.webhookDeliveryLeases(),
    ]
  ) {
    for await (const _ of raw.list({ prefix }, { limit: 1 })) return true;
  }
  return false;
}

const started = Date.now();
while (Date.now() - started < maxMs) {
  await deliverWebhooks({ kv, config, now: Date.now }, {
    onPhase: (p, d) => phase(p, d.eventId),
  }).catch((err) => console.log(`error ${err}`));
  if (!(await busy())) break;
  await new Promise((r) => setTimeout(r, 100));
}
raw.close();
console.log("done");
