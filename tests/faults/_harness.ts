/**
 * Fault-test set-up: owners with one instance each, scheduled through the
 * scheduler's own code on a KV file, and a child sweeping process that can
 * be paused at a phase of the sweep and killed with SIGKILL.
 */
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { putUser } from "@/lib/kv/users.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { newId } from "@/lib/ids.ts";
import type { Channel } from "@/lib/types.ts";

export interface Scheduled {
  actionId: string;
  scheduledAt: number;
  emails: string[];
}

/** Schedules a restart of `owners` fresh instances (one owner each). */
export async function scheduleOwners(
  kv: Deno.Kv,
  o: {
    owners: number;
    label: string;
    scheduledAt: number;
    leadHours: number;
    channels?: Channel[];
    now?: number;
  },
): Promise<Scheduled> {
  const now = o.now ?? Date.now();
  const ids: string[] = [];
  const emails: string[] = [];
  for (let i = 0; i < o.owners; i++) {
    const email = `${o.label}-${i}@example.test`;
    const user = await putUser(kv, newId(), { email }, now);
    const id = newId();
    await putInstance(kv, id, {
      name: `${o.label} claw ${i}`,
      ownerId: user.id,
      imageTag: "v1",
    }, now);
    ids.push(id);
    emails.push(email);
  }
  const input = ScheduleInputSchema.parse({
    actionType: "scheduled_restart",
    instanceIds: ids,
    scheduledAt: new Date(o.scheduledAt).toISOString(),
    noticeLeadHours: o.leadHours,
    noticeChannels: o.channels ?? ["email"],
  });
  const res = await scheduleAction(
    { kv, config: { scheduleMinAheadSeconds: 0 }, now: () => now },
    input,
    { id: "admin" },
  );
  return { actionId: res.id, scheduledAt: o.scheduledAt, emails };
}

export async function openKvFile(path: string): Promise<Deno.Kv> {
  return await openKv(parseConfig({ KV_PATH: path, DEMO_SEED: "false" }));
}

const WORKER = new URL("./_sweep_worker.ts", import.meta.url).pathname;

/** A running sweeper child and the lines it printed. */
export interface Sweeper {
  lines: string[];
  /** Resolves when a printed line matches, or null when the child exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string | null>;
  kill(): Promise<void>;
  done: Promise<Deno.CommandStatus>;
}

export function startSweeper(
  kvPath: string,
  resendUrl: string,
  opts: { pauseAt?: string; maxMs?: number } = {},
): Sweeper {
  return startWorker(WORKER, [
    kvPath,
    resendUrl,
    opts.pauseAt ?? "-",
    String(opts.maxMs ?? 60_000),
  ]);
}

/** Any worker script of this suite, run with `args`, its printed lines watched. */
export function startWorker(worker: string, args: string[]): Sweeper {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", worker, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (l: string | null) => void }[] =
    [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of child.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        for (const w of waiters.splice(0)) {
          if (w.pattern.test(line)) w.resolve(line);
          else waiters.push(w);
        }
      }
    }
    for (const w of waiters.splice(0)) w.resolve(null);
  })();
  const done = child.status.then(async (s) => {
    await reading;
    return s;
  });
  return {
    lines,
    done,
    waitFor(pattern, timeoutMs) {
      const hit = lines.find((l) => pattern.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), timeoutMs);
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await done;
    },
  };
}

/**
 * Every message a Resend request carried (one email or a batch), as
 * "recipient kind" (a notice and its cancellation are different messages).
 */
export function recipientsOf(body: unknown): string[] {
  const list = Array.isArray(body) ? body : [body];
  return list.flatMap((e) => {
    const m = e as {
      to?: unknown;
      tags?: { name: string; value: string }[];
    };
    const kind = m?.tags?.find((t) => t.name === "kind")?.value ?? "";
    const to = Array.isArray(m?.to)
      ? m.to.map(String)
      : m?.to
      ? [String(m.to)]
      : [];
    return to.map((t) => `${t} ${kind}`.trim());
  });
}
