/**
 * The Resend and Expo stand-ins in a process of their own, so a benchmark
 * measures the app, not its stand-ins. Prints one JSON line with their URLs;
 * `GET <resend>/__stats` answers what they received.
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

const stats = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen() {} },
  () =>
    Response.json({
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
