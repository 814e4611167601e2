/**
 * A small world seen by six callers (anonymous, the owner of an instance,
 * another user, an admin, the admin API token, the internal secret) and the
 * requests each of them sends: the hostile-input table, the access matrix and
 * the cross-site tests share it.
 */
import assert from "node:assert/strict";
import {
  createTestApp,
  ORIGIN,
  TEST_INTERNAL_SECRET,
  type TestApp,
} from "./app.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { newId } from "@/lib/ids.ts";
import type { User } from "@/lib/types.ts";

export const IDENTITIES = [
  "anonymous",
  "user",
  "other",
  "admin",
  "token",
  "internal",
] as const;
export type Identity = typeof IDENTITIES[number];

interface SignedIn {
  user: User;
  cookie: string;
  csrfToken: string;
}

export interface World {
  app: TestApp;
  owner: SignedIn;
  other: SignedIn;
  admin: SignedIn;
  /** The owner's running instance, with a pending restart on it. */
  instanceId: string;
  /** The other user's instance. */
  otherInstanceId: string;
  /** An instance with nothing scheduled. */
  freeInstanceId: string;
  actionId: string;
  targetId: string;
  /** An email in the outbox. */
  outboxId: string;
}

export async function createWorld(): Promise<World> {
  const app = await createTestApp();
  const owner = await app.signIn({ name: "Owen Owner" });
  const other = await app.signIn({ name: "Olga Other" });
  const admin = await app.signIn({ admin: true, name: "Ada Admin" });
  await putCatalogEntry(app.kv, "v1", { openclawVersion: "1.0.0" });
  await putCatalogEntry(app.kv, "v2", { openclawVersion: "2.0.0" });
  const instanceId = newId();
  const otherInstanceId = newId();
  const freeInstanceId = newId();
  await putInstance(app.kv, instanceId, {
    name: "Owned bot",
    ownerId: owner.user.id,
    imageTag: "v1",
  });
  await putInstance(app.kv, otherInstanceId, {
    name: "Other bot",
    ownerId: other.user.id,
    imageTag: "v1",
  });
  await putInstance(app.kv, freeInstanceId, {
    name: "Free bot",
    ownerId: owner.user.id,
    imageTag: "v1",
  });
  const res = await app.api("POST", "/api/admin/scheduled-actions", {
    actionType: "scheduled_restart",
    instanceIds: [instanceId],
    scheduledAt: new Date(Date.now() + 48 * 3600_000).toISOString(),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const actionId = (await res.json()).id as string;
  const detail = await (await app.api(
    "GET",
    `/api/admin/scheduled-actions/${actionId}`,
  )).json();
  const targetId = detail.targets.items[0].target.id as string;
  const sent = await app.ctx.email.send({
    to: owner.user.email,
    subject: "A stored email",
    html: "<p>hi</p>",
    text: "hi",
  });
  assert.ok(sent.ok && sent.id);
  return {
    app,
    owner,
    other,
    admin,
    instanceId,
    otherInstanceId,
    freeInstanceId,
    actionId,
    targetId,
    outboxId: sent.id,
  };
}

/** The session of a signed-in identity, or null. */
export function sessionOf(w: World, who: Identity): SignedIn | null {
  return who === "user"
    ? w.owner
    : who === "other"
    ? w.other
    : who === "admin"
    ? w.admin
    : null;
}

export interface Send {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with its content type. */
  json?: unknown;
  /** Sent as a urlencoded form; a session's `_csrf` is added unless `_csrf` is given. */
  form?: Record<string, string>;
  body?: BodyInit;
}

/** A request as `who` sends it: their credentials, and a browser's same-site Origin on changes. */
export function requestAs(w: World, who: Identity, send: Send): RequestInit {
  const method = send.method ?? "GET";
  const headers: Record<string, string> = {};
  const session = sessionOf(w, who);
  if (session) headers.cookie = session.cookie;
  if (who === "token") headers.authorization = `Bearer ${w.app.adminToken}`;
  if (who === "internal") headers["x-internal-secret"] = TEST_INTERNAL_SECRET;
  if (session && method !== "GET" && method !== "HEAD") {
    headers.origin = ORIGIN;
  }
  let body = send.body;
  if (send.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(send.json);
  }
  if (send.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams({
      ...(session ? { _csrf: session.csrfToken } : {}),
      ...send.form,
    }).toString();
  }
  return { method, headers: { ...headers, ...send.headers }, body };
}

/** Every entry in KV with its versionstamp: two equal dumps mean nothing was written. */
export async function dumpKv(kv: Deno.Kv): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    out.push([e.key, e.value, e.versionstamp]);
  }
  return out;
}
