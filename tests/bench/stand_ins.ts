/**
 * The Resend and Expo stand-ins of the benchmarks, in a child process of
 * their own (tests/fakes/serve.ts), so the figures measure the app, not its
 * stand-ins.
 */

/** The stand-in's rate: 5 requests a second, counted in fixed one-second windows. */
export const PROVIDER_RATE = 5;
export const PROVIDER_LATENCY_MS = 50;

export interface StandIns {
  resendUrl: string;
  apiKey: string;
  expoUrl: string;
  stats(): Promise<
    {
      requests: number;
      delivered: number;
      rejected429: number;
      pushes: number;
    }
  >;
  /** What each address and each device received: deliveries by email address, accepted pushes by token. */
  recipients(): Promise<
    { emails: Record<string, number>; pushes: Record<string, number> }
  >;
  close(): Promise<void>;
}

/** Starts the Resend and Expo stand-ins in a child process. */
export async function standIns(
  opts: { rateLimit: number | null; latencyMs: number },
): Promise<StandIns> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL("../fakes/serve.ts", import.meta.url).pathname,
      JSON.stringify(opts),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stand-ins did not start");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const info = JSON.parse(text.split("\n")[0]);
  return {
    ...info,
    stats: async () => await (await fetch(info.statsUrl)).json(),
    recipients: async () =>
      await (await fetch(`${info.statsUrl}/recipients`)).json(),
    async close() {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}
