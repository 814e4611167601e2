/**
 * The Resend and Expo stand-ins in a process of their own, so a benchmark
 * measures the app, not its stand-ins. Prints one JSON line with their URLs;
 * `GET <statsUrl>` answers what they received, `GET <statsUrl>/recipients`
 * how many emails each address and pushes each device got.
 *
 *   deno run -A tests/fakes/serve.ts '{"rateLimit":5,"latencyMs":50}'
 */
import { startResendFake } from "./resend_server.ts";
import { startExpoFake } from "./expo_server.ts";

const opts = JSON.parse(Deno.args[0] ?? "{}") as {
  rateLimit?: number | null;
  latencyMs?: number;
};
const resend = await startResendFake();
resend.rateLimit = opts.rateLimit ?? null;
resend.latencyMs = opts.latencyMs ?? 0;
const expo = await startExpoFake();

/** How many times each key occurs. */
function tally(keys: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

const stats = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen() {} },
  (req) =>
    new URL(req.url).pathname === "/recipients"
      // Per address and per device, so a benchmark can tell a duplicate from a miss.
      ? Response.json({
        emails: tally(resend.delivered.flatMap((e) => e.to)),
        pushes: tally(
          expo.messages.filter((m) => m.ticketId !== null).map((m) => m.to),
        ),
      })
      : Response.json({
        requests: resend.requests.length,
        delivered: resend.delivered.length,
        rejected429: resend.rejected429,
        pushes: expo.messages.length,
      }),
);
console.log(JSON.stringify({
  resendUrl: resend.url,
  apiKey: resend.apiKey,
  expoUrl: expo.url,
  statsUrl: `http://127.0.0.1:${stats.addr.port}`,
}));
