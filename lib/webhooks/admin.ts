/**
 * What the webhook routes (API and pages) call: one function per request,
 * each taking the app's context and the signed-in admin.
 */
import type { AppContext } from "../app_context.ts";
import { auditActorOf } from "../request_state.ts";
import { parseOrThrow } from "../errors.ts";
import type { State } from "../request_state.ts";
import {
  createEndpoint,
  deleteEndpoint,
  endpointView,
  getEndpoint,
  listEndpoints,
} from "./endpoints.ts";
import { deliveryView, listDeliveries } from "./delivery_rows.ts";
import { sendTestEvent } from "./deliveries.ts";
import { webhookEndpointInputSchema } from "./schemas.ts";

type Deps = Pick<AppContext, "kv" | "config" | "now">;

export async function registerWebhook(deps: Deps, state: State, body: unknown) {
  const input = parseOrThrow(
    webhookEndpointInputSchema(deps.config.allowHttpWebhooks),
    body,
    "webhook endpoint",
  );
  const e = await createEndpoint(
    deps.kv,
    input,
    auditActorOf(state),
    deps.now(),
  );
  return { ...endpointView(e), secret: e.secret };
}

export async function listWebhooks(deps: Deps) {
  return { endpoints: (await listEndpoints(deps.kv)).map(endpointView) };
}

export async function webhookWithLog(deps: Deps, id: string) {
  const endpoint = await getEndpoint(deps.kv, id);
  return {
    endpoint: endpointView(endpoint),
    deliveries: (await listDeliveries(deps.kv, id)).map(deliveryView),
  };
}

export async function removeWebhook(deps: Deps, state: State, id: string) {
  await deleteEndpoint(deps.kv, id, auditActorOf(state), deps.now());
}

export async function testWebhook(deps: Deps, state: State, id: string) {
  const endpoint = await getEndpoint(deps.kv, id);
  const d = await sendTestEvent(deps, endpoint, auditActorOf(state));
  return { delivery: deliveryView(d) };
}
