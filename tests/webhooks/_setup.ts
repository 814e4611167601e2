/**
 * Set-up for the webhook tests: the whole app in process (real KV, real
 * routes), the fleet controller stand-in, a receiver that verifies every
 * signature, and a clock the tests move.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { startFakeController } from "../fakes/controller_server.ts";
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from "../fakes/webhook_receiver.ts";
import { applyTick } from "@/lib/jobs.ts";
import type {
  DeliverDeps,
  DeliverReport,
} from "@/lib/webhooks/delivery_rows.ts";
import { deliverWebhooks } from "@/lib/webhooks/deliveries.ts";
import type { Config } from "@/lib/config.ts";

export const HOUR = 3_600_000;

/** A JSON answer, read field by field as each test needs. */
// deno-lint-ignore no-explicit-any
export type Json = any;
export const T0 = Date.parse("2030-03-04T10:00:00Z");
const CONTROLLER_SECRET = "controller-secret-0123456789abcdef";

export interface World {
  app: TestApp;
  clock: { t: number };
  receiver: WebhookReceiver;
  controller: ReturnType<typeof startFakeController>;
  owner: string;
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }>;
  /** Registers an endpoint at `path` of the receiver; returns its id. */
  register(path: string, extra?: Record<string, unknown>): Promise<string>;
  /** Schedules a restart of fresh instances at `at`; returns the action id. */
  schedule(instances: number, at: number): Promise<string>;
  apply(): Promise<void>;
  deliver(extra?: Partial<DeliverDeps>): Promise<DeliverReport>;
}

export async function withWorld(
  fn: (w: World) => Promise<void>,
  config: Partial<Config> = {},
): Promise<void> {
  const clock = { t: T0 };
  const controller = startFakeController(CONTROLLER_SECRET);
  const receiver = startWebhookReceiver();
  const app = await createTestApp({
    config: {
      allowHttpWebhooks: true,
      controllerUrl: controller.url,
      controllerSecret: CONTROLLER_SECRET,
      ...config,
    },
    context: { now: () => clock.t },
  });
  try {
    await seedCatalog(app.kv);
    const owner = (await app.signIn({ email: "owner@example.com" })).user.id;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await app.api(method, path, body);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    let n = 0;
    const w: World = {
      app,
      clock,
      receiver,
      controller,
      owner,
      call,
      async register(path, extra = {}) {
        const res = await call("POST", "/api/admin/webhooks", {
          url: receiver.url(path),
          ...extra,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        receiver.register(
          path,
          res.body.kind === "slack" ? null : res.body.secret,
        );
        return res.body.id;
      },
      async schedule(instances, at) {
        const ids: string[] = [];
        for (let i = 0; i < instances; i++) {
          const id = `bot-${++n}`;
          const put = await call("PUT", `/api/admin/instances/${id}`, {
            name: `Bot ${n}`,
            ownerId: owner,
            imageTag: "v1",
          });
          assert.equal(put.status, 200, JSON.stringify(put.body));
          ids.push(id);
        }
        const res = await call("POST", "/api/admin/scheduled-actions", {
          actionType: "scheduled_restart",
          instanceIds: ids,
          scheduledAt: new Date(at).toISOString(),
          notify: false,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id;
      },
      async apply() {
        await applyTick({ ...app.ctx, sleep: () => Promise.resolve() });
      },
      deliver: (extra = {}) => deliverWebhooks({ ...app.ctx, ...extra }),
    };
    await fn(w);
  } finally {
    await app.close();
    await receiver.close();
    await controller.close();
  }
}

/** The event types `path` processed for one action, in order. */
export function typesOf(w: World, path: string, actionId: string): string[] {
  return w.receiver.processed(path).filter((p) => p.actionId === actionId)
    .map((p) => p.type);
}
