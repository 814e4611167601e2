/**
 * Webhook endpoints: registered, listed, removed by admins, each change with
 * its audit entry in the same atomic operation. The signing secret is kept
 * to sign with and leaves the app only in the register answer.
 */
import { Buffer } from "node:buffer";
import { keys } from "../kv/keys.ts";
import { commitRetrying } from "../kv/db.ts";
import { conditionalWrite } from "../kv/conditional_write.ts";
import { newId } from "../ids.ts";
import { addAuditWrite, type AuditActor, newAuditEntry } from "../kv/audit.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import {
  MAX_WEBHOOK_ENDPOINTS,
  type WebhookEndpointInput,
  type WebhookEndpointView,
} from "./schemas.ts";

export interface WebhookEndpoint extends WebhookEndpointView {
  /** `whsec_` and 24 random bytes in base64, as Standard Webhooks keys are written. */
  secret: string;
}

export function newSecret(): string {
  return `whsec_${
    Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")
  }`;
}

/** What lists and pages show: everything but the secret. */
export function endpointView(e: WebhookEndpoint): WebhookEndpointView {
  const { secret: _secret, ...view } = e;
  return view;
}

export async function listEndpoints(kv: Deno.Kv): Promise<WebhookEndpoint[]> {
  const out: WebhookEndpoint[] = [];
  for await (
    const e of kv.list<WebhookEndpoint>({ prefix: keys.webhookEndpoints() })
  ) out.push(e.value);
  return out;
}

export async function getEndpoint(
  kv: Deno.Kv,
  id: string,
): Promise<WebhookEndpoint> {
  const e = await kv.get<WebhookEndpoint>(keys.webhookEndpoint(id));
  if (!e.value) throw new NotFoundError(`webhook endpoint ${id} not found`);
  return e.value;
}

/** Registers an endpoint; the answer is the only place its secret appears. */
export async function createEndpoint(
  kv: Deno.Kv,
  input: WebhookEndpointInput,
  who: AuditActor,
  now: number,
): Promise<WebhookEndpoint> {
  const existing = await listEndpoints(kv);
  if (existing.length >= MAX_WEBHOOK_ENDPOINTS) {
    throw new ConflictError(
      `at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints; remove one first`,
    );
  }
  const endpoint: WebhookEndpoint = {
    id: newId(),
    url: input.url,
    events: input.events,
    kind: input.kind,
    description: input.description,
    createdAt: new Date(now).toISOString(),
    createdBy: who.actor.id,
    disabledAt: null,
    disabledReason: null,
    secret: newSecret(),
  };
  const audit = newAuditEntry(who, {
    change: "webhook.create",
    subject: { type: "webhook", id: endpoint.id },
    details: {
      url: endpoint.url,
      events: endpoint.events,
      kind: endpoint.kind,
    },
  }, now);
  const key = keys.webhookEndpoint(endpoint.id);
  const res = await commitRetrying(() =>
    addAuditWrite(
      kv.atomic().check({ key, versionstamp: null }).set(key, endpoint),
      audit,
    )
  );
  if (!res.ok) throw new Error("webhook endpoint id collided");
  return endpoint;
}

/**
 * Removes an endpoint. Its deliveries still waiting fail when their turn
 * comes ("endpoint removed"); its log stays until it expires.
 */
export async function deleteEndpoint(
  kv: Deno.Kv,
  id: string,
  who: AuditActor,
  now: number,
): Promise<void> {
  const key = keys.webhookEndpoint(id);
  await conditionalWrite(`webhook endpoint ${id}`, async () => {
    const e = await kv.get<WebhookEndpoint>(key);
    if (!e.value) throw new NotFoundError(`webhook endpoint ${id} not found`);
    const audit = newAuditEntry(who, {
      change: "webhook.delete",
      subject: { type: "webhook", id },
      details: { url: e.value.url, kind: e.value.kind },
    }, now);
    return {
      write: () => addAuditWrite(kv.atomic().check(e).delete(key), audit),
      result: undefined,
    };
  }, 5);
}
