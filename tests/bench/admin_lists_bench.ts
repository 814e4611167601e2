/**
 * Admin lists at scale: `BENCH_LIST_SIZE` users (10,000 by default), each
 * owning one instance on one tag, and one action over every instance with 3
 * failed targets among them.
 *
 * - the users page and the instances page, 20 requests at once; the largest
 *   growth of the JS heap while they run is printed at the end: it follows a
 *   page, not the store;
 * - `/admin` filtered by that tag (every instance matches: the count and
 *   "Select all N matching" are exact);
 * - `/admin` searched by a text 10 instances hold (a walk of every record);
 * - the action's page, and its targets filtered by `failed` through the API.
 *
 * `BENCH_LIST_SIZE=100000 deno bench -A --no-check tests/bench/admin_lists_bench.ts`
 * measures them at 100,000 (a minute or two of set-up).
 */
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { keys } from "@/lib/kv/keys.ts";
import { addNewInstanceIndexes } from "@/lib/kv/instances.ts";
import { addToCounter, addToStageCounter } from "@/lib/kv/actions.ts";
import { putStage } from "@/lib/apply/stage_status.ts";
import { asEnded, asRunning, putTarget } from "@/lib/apply/target_status.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { makeAction, makeStage, makeTarget } from "../helpers/records.ts";
import type { Instance, Target, User } from "@/lib/types.ts";

const SIZE = Number(Deno.env.get("BENCH_LIST_SIZE") ?? 10_000);
if (!Number.isInteger(SIZE) || SIZE < 100) {
  throw new Error(
    `BENCH_LIST_SIZE must be a whole number of at least 100, not ${
      Deno.env.get("BENCH_LIST_SIZE")
    }`,
  );
}
const CONCURRENT = 20;
const TAG = "v1";
const FAILED = 3;
const many = SIZE.toLocaleString("en-US");

async function commitOk(op: Deno.AtomicOperation) {
  if (!(await op.commit()).ok) throw new Error("seeding failed");
}

async function seedFleet(app: TestApp) {
  const at = new Date().toISOString();
  // A user, an instance and its index keys: 11 writes each, 80 a commit.
  for (let i = 0; i < SIZE; i += 80) {
    const op = app.kv.atomic();
    for (let j = i; j < Math.min(SIZE, i + 80); j++) {
      const n = String(j).padStart(6, "0");
      const user: User = {
        id: `u-${n}`,
        email: `user-${n}@example.com`,
        name: `User ${n}`,
        timeZone: null,
        role: "user",
        pushTokens: [],
        createdAt: at,
        updatedAt: at,
      };
      const instance: Instance = {
        id: `i-${n}`,
        name: `Bot ${n}`,
        ownerId: user.id,
        imageTag: TAG,
        pinnedImageTag: null,
        status: "running",
        lastRestartAt: null,
        createdAt: at,
        updatedAt: at,
      };
      op.set(keys.user(user.id), user)
        .set(keys.userByEmail(user.email), user.id)
        .set(keys.instance(instance.id), instance);
      addNewInstanceIndexes(op, instance);
    }
    await commitOk(op);
  }
}

/** One running action over every instance, its targets written by putTarget as a schedule write does; a few failed. */
async function seedAction(app: TestApp): Promise<string> {
  const now = Date.now();
  const action = makeAction({ status: "running" }, now);
  const stage = makeStage(action, now - 60_000, { status: "running" });
  const targets: Target[] = [];
  for (let i = 0; i < SIZE; i += 100) {
    const op = app.kv.atomic();
    for (let j = i; j < Math.min(SIZE, i + 100); j++) {
      const n = String(j).padStart(6, "0");
      const t = makeTarget(action, {
        instanceId: `i-${n}`,
        userId: `u-${n}`,
        sourceImageTag: TAG,
      }, { id: `${action.id}-${n}` });
      targets.push(t);
      putTarget(op, null, t);
    }
    await commitOk(op);
  }
  const op = app.kv.atomic().set(keys.action(action.id), action);
  putStage(op, null, stage);
  addToCounter(op, action.id, "total", SIZE);
  addToStageCounter(op, stage, "total", SIZE);
  await commitOk(op);
  // Spread over the action, so a scan would have to walk it all to find them.
  for (let k = 0; k < FAILED; k++) {
    const t = targets[Math.floor((k + 0.5) * SIZE / FAILED)];
    const failed = asEnded(asRunning(t, now), {
      status: "failed",
      error: "the controller said no",
    }, now);
    await commitOk(putTarget(app.kv.atomic(), t, failed));
  }
  return action.id;
}

const app = await createTestApp();
await putCatalogEntry(app.kv, TAG, { openclawVersion: "1.0.0" });
await seedFleet(app);
const actionId = await seedAction(app);
const admin = await app.signIn({ admin: true, email: "a@example.com" });
const peaks: Record<string, number> = {};

async function get(path: string, check?: (body: string) => boolean) {
  const res = await app.request(path, { headers: { cookie: admin.cookie } });
  const body = await res.text();
  if (res.status !== 200 || (check && !check(body))) {
    throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`);
  }
  return body;
}

async function burst(name: string, path: string) {
  (globalThis as { gc?: () => void }).gc?.();
  const base = Deno.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().heapUsed);
  }, 1);
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      await get(path);
      peak = Math.max(peak, Deno.memoryUsage().heapUsed);
    }),
  );
  clearInterval(timer);
  peaks[name] = Math.max(peaks[name] ?? 0, peak - base);
}

Deno.bench(`users page, ${CONCURRENT} at once, ${many} users`, async () => {
  await burst("users page", "/admin/users");
});
Deno.bench(
  `instances page, ${CONCURRENT} at once, ${many} instances`,
  async () => {
    await burst("instances page", "/admin");
  },
);
Deno.bench({
  name: `instances page filtered by tag, ${many} matching`,
  n: 5,
  warmup: 1,
  async fn() {
    await get(
      `/admin?tag=${TAG}`,
      (html) => html.includes(`Schedule for all ${many} matching`),
    );
  },
});
Deno.bench({
  name: `instances page searched by text, 10 matching among ${many}`,
  n: 5,
  warmup: 1,
  async fn() {
    // "Bot 09999" matches Bot 099990 … Bot 099999 at 100,000: a text search walks every record.
    await get(
      `/admin?q=${
        encodeURIComponent(
          `Bot ${String(SIZE - 1).slice(0, -1).padStart(5, "0")}`,
        )
      }`,
      (html) => html.includes("10 instances"),
    );
  },
});
Deno.bench({
  name: `action page, ${many} targets`,
  n: 5,
  warmup: 1,
  async fn() {
    await get(`/admin/actions/${actionId}`);
  },
});
Deno.bench({
  name: `action's targets filtered by failed, ${FAILED} among ${many}`,
  n: 20,
  warmup: 2,
  async fn() {
    const body = await get(
      `/api/admin/scheduled-actions/${actionId}?outcome=failed`,
    );
    const found = JSON.parse(body).targets.items.length;
    if (found !== FAILED) throw new Error(`${found} failed targets listed`);
  },
});

globalThis.addEventListener("unload", () => {
  for (const [name, bytes] of Object.entries(peaks)) {
    console.log(
      `${name}: heap grew by at most ${(bytes / 1024 / 1024).toFixed(1)} MB`,
    );
  }
});
