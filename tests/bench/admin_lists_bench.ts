/**
 * Admin lists at 10,000 users and 10,000 instances: 20 requests at once to
 * the users page and to the instances page. Besides the time, the largest
 * growth of the JS heap while they run is printed at the end: it follows a
 * page, not the store.
 */
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { keys } from "@/lib/kv/keys.ts";
import type { Instance, User } from "@/lib/types.ts";

const USERS = 10_000;
const CONCURRENT = 20;

async function seed(app: TestApp) {
  const at = new Date().toISOString();
  for (let i = 0; i < USERS; i += 100) {
    const op = app.kv.atomic();
    for (let j = i; j < i + 100; j++) {
      const n = String(j).padStart(5, "0");
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
        imageTag: "v1",
        pinnedImageTag: null,
        status: "running",
        lastRestartAt: null,
        createdAt: at,
        updatedAt: at,
      };
      op.set(keys.user(user.id), user)
        .set(keys.userByEmail(user.email), user.id)
        .set(keys.instance(instance.id), instance)
        .set(keys.instanceByOwner(user.id, instance.id), null)
        .set(keys.instanceByTag("v1", instance.id), null);
    }
    await op.commit();
  }
}

const app = await createTestApp();
await seed(app);
const admin = await app.signIn({ admin: true, email: "a@example.com" });
const peaks: Record<string, number> = {};

async function burst(name: string, path: string) {
  (globalThis as { gc?: () => void }).gc?.();
  const base = Deno.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().heapUsed);
  }, 1);
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      const res = await app.request(path, {
        headers: { cookie: admin.cookie },
      });
      await res.text();
      peak = Math.max(peak, Deno.memoryUsage().heapUsed);
    }),
  );
  clearInterval(timer);
  peaks[name] = Math.max(peaks[name] ?? 0, peak - base);
}

Deno.bench(`users page, ${CONCURRENT} at once, ${USERS} users`, async () => {
  await burst("users page", "/admin/users");
});
Deno.bench(
  `instances page, ${CONCURRENT} at once, ${USERS} instances`,
  async () => {
    await burst("instances page", "/admin");
  },
);

globalThis.addEventListener("unload", () => {
  for (const [name, bytes] of Object.entries(peaks)) {
    console.log(
      `${name}: heap grew by at most ${(bytes / 1024 / 1024).toFixed(1)} MB`,
    );
  }
});
