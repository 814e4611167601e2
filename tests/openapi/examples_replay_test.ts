/**
 * Every example of the OpenAPI document is sent to the running app (real
 * routes, in-memory KV), and each answer is checked with a JSON Schema
 * validator against the schema the document gives for its status: the
 * document cannot drift from the code. Each example request is also checked
 * against its own documented schema, and each operation taking a body is sent
 * a wrong one, whose 400 must have the documented error shape.
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { createTestApp, TEST_INTERNAL_SECRET } from "../helpers/app.ts";
import { buildOpenApiDocument } from "@/lib/openapi/document.ts";
import { EXAMPLE } from "@/lib/openapi/operation_parts.ts";
import { createSession, SESSION_COOKIE } from "@/lib/auth/sessions.ts";
import { startWebhookReceiver } from "../fakes/webhook_receiver.ts";
import { deliverWebhooks } from "@/lib/webhooks/deliveries.ts";

interface Parameter {
  in: "path" | "query" | "header" | "cookie";
  name: string;
  schema?: { example?: unknown };
  example?: unknown;
}
interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: {
    content: Record<string, { examples?: Record<string, { value: unknown }> }>;
  };
  responses: Record<string, unknown>;
}
interface Document {
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, Record<string, Operation>>;
}

/**
 * The order examples are replayed in: records before the action that uses
 * them, a webhook endpoint registered before the action so it hears of it
 * (and removed once the events are delivered), reads and moves before the
 * cancels, the user deleted last. A new
 * operation gets its place here (the test names any left out).
 */
const REPLAY_ORDER = [
  "putCatalogEntry",
  "putUser",
  "putUserSettings",
  "getUserSettings",
  "putInstance",
  "getInstance",
  "createWebhook",
  "listWebhooks",
  "sendWebhookTestEvent",
  "getWebhook",
  "previewSchedule",
  "scheduleAction",
  "listScheduledActions",
  "getScheduledAction",
  "getActionProgress",
  "previewReschedule",
  "rescheduleAction",
  "resumeRollout",
  "rollbackRollout",
  "recountAction",
  "runSweep",
  "getLastSweepRun",
  "listOwnInstances",
  "getInstanceStatus",
  "postponeInstanceChange",
  "addPushToken",
  "removePushToken",
  "putOwnSettings",
  "getOwnSettings",
  "sendNotificationEmail",
  "cancelTarget",
  "cancelAction",
  "abortRollout",
  "deleteWebhook",
  "listAudit",
  "deleteUser",
  "getOpenApiDocument",
];

/** Examples whose documented answer is not a success. */
const EXPECTED_STATUS: Record<string, number> = {
  // Its example names a real notice under a claim the caller does not hold.
  sendNotificationEmail: 409,
  // The README's action lets no owner postpone it.
  postponeInstanceChange: 409,
  // The README's action is no paused rollout, and changed nothing yet.
  resumeRollout: 409,
  rollbackRollout: 409,
};

// The README's action is for 2026-12-01 03:00 UTC; the app's clock stands a
// week and a half before it.
const NOW = Date.parse("2026-11-20T12:00:00Z");

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

function operations(doc: Document): Map<string, [string, string, Operation]> {
  const found = new Map<string, [string, string, Operation]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      found.set(op.operationId, [method.toUpperCase(), path, op]);
    }
  }
  return found;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

type Validate = (ref: string, value: unknown, what: string) => void;

/**
 * Sends the events the replay's action raised to the registered receiver,
 * and checks each body it verified against the document's `webhooks` entry
 * for its type.
 */
async function deliverEvents(
  app: Awaited<ReturnType<typeof createTestApp>>,
  receiver: ReturnType<typeof startWebhookReceiver>,
  validate: Validate,
) {
  // Events of one action go one at a time: a few rounds send them all.
  for (let round = 0; round < 10; round++) {
    const report = await deliverWebhooks(app.ctx);
    if (report.fannedOut === 0 && report.delivered === 0) break;
  }
  const received = receiver.processed("/kiloclaw");
  for (const event of received) {
    validate(
      pointer(
        "webhooks",
        event.type,
        "post",
        "requestBody",
        "content",
        "application/json",
        "schema",
      ),
      event.body,
      `the ${event.type} event the receiver got`,
    );
  }
  const types = new Set(received.map((e) => e.type));
  for (
    const type of [
      "webhook.test",
      "action.scheduled",
      "action.rescheduled",
      "action.cancelled",
    ]
  ) {
    assert.ok(types.has(type), `no ${type} event arrived: ${[...types]}`);
  }
}

Deno.test("every documented example answers as the document says", async () => {
  // The documented endpoint is public https; the replay registers this
  // loopback receiver in its place (plain http to loopback is what
  // ALLOW_HTTP_WEBHOOKS allows), so the test event really arrives.
  const receiver = startWebhookReceiver();
  const app = await createTestApp({
    config: { allowHttpWebhooks: true },
    context: { now: () => NOW },
  });
  try {
    const doc = buildOpenApiDocument(
      app.ctx.config.publicUrl,
    ) as unknown as Document;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi.json");
    const validate = (ref: string, value: unknown, what: string) => {
      const check = ajv.compile({ $ref: `openapi.json#/${ref}` });
      assert.ok(
        check(value),
        `${what} does not match the document: ${
          ajv.errorsText(check.errors)
        }\n${JSON.stringify(value, null, 1).slice(0, 2000)}`,
      );
    };

    const ops = operations(doc);
    assert.deepEqual(
      [...ops.keys()].filter((id) => !REPLAY_ORDER.includes(id)),
      [],
      "operations with no place in REPLAY_ORDER",
    );
    assert.deepEqual(
      REPLAY_ORDER.filter((id) => !ops.has(id)),
      [],
      "REPLAY_ORDER names operations the document does not have",
    );

    // What receivers get: each documented example fits its own schema (the
    // real events are checked by deliverEvents).
    for (const [name, item] of Object.entries(doc.webhooks)) {
      const example = item.post.requestBody?.content["application/json"]
        .examples?.readme?.value;
      assert.ok(example !== undefined, `webhook ${name} has no example`);
      validate(
        pointer(
          "webhooks",
          name,
          "post",
          "requestBody",
          "content",
          "application/json",
          "schema",
        ),
        example,
        `the example of webhook ${name}`,
      );
    }

    // The instance's current tag must be in the catalog before it is saved.
    const fromTag = await app.api(
      "PUT",
      `/api/admin/catalog/${EXAMPLE.fromTag}`,
      { openclawVersion: "1.8.0", available: true },
    );
    assert.equal(fromTag.status, 200);

    // Ids the app makes stand in for the example's once it has made them.
    const ids = new Map<string, string>([
      [EXAMPLE.webhookUrl, receiver.url("/kiloclaw")],
    ]);
    const substitute = (text: string) =>
      [...ids].reduce((t, [from, to]) => t.replaceAll(from, to), text);
    let ownerCookie = "";

    for (const operationId of REPLAY_ORDER) {
      const [method, template, op] = ops.get(operationId)!;
      const where = `${method} ${template} (${operationId})`;
      let path = template;
      const query = new URLSearchParams();
      for (const p of op.parameters ?? []) {
        const example = p.example ?? p.schema?.example;
        if (p.in === "path") {
          assert.ok(
            example !== undefined,
            `${where}: {${p.name}} has no example`,
          );
          path = path.replace(`{${p.name}}`, String(example));
        } else if (
          p.in === "query" && example !== undefined && !op.requestBody
        ) {
          query.set(p.name, String(example));
        }
      }
      const media = op.requestBody?.content["application/json"];
      const body = media?.examples?.readme?.value;
      if (media) {
        assert.ok(body !== undefined, `${where}: its body has no example`);
        validate(
          pointer(
            "paths",
            template,
            method.toLowerCase(),
            "requestBody",
            "content",
            "application/json",
            "schema",
          ),
          body,
          `${where}: the request example`,
        );
      }

      if (operationId === "deleteWebhook") {
        await deliverEvents(app, receiver, validate);
      }

      const security = op.security ?? doc.security;
      const schemes = security.flatMap((s) => Object.keys(s));
      const headers: Record<string, string> = {};
      if (schemes.includes("adminToken")) {
        headers.authorization = `Bearer ${app.adminToken}`;
      } else if (schemes.includes("session")) {
        if (!ownerCookie) {
          const { id } = await createSession(app.kv, EXAMPLE.userId, NOW);
          ownerCookie = `${SESSION_COOKIE}=${id}`;
        }
        headers.cookie = ownerCookie;
      } else if (schemes.includes("internalSecret")) {
        headers["x-internal-secret"] = TEST_INTERNAL_SECRET;
      }
      if (body !== undefined) headers["content-type"] = "application/json";
      const url = substitute(path) + (query.size ? `?${query}` : "");
      const res = await app.request(url, {
        method,
        headers,
        body: body === undefined ? undefined : substitute(JSON.stringify(body)),
      });
      const answer = res.status === 204 ? null : await res.json();
      const expected = EXPECTED_STATUS[operationId] ??
        Number(Object.keys(op.responses).find((s) => s.startsWith("2")));
      assert.equal(
        res.status,
        expected,
        `${where} answered ${res.status}: ${JSON.stringify(answer)}`,
      );
      if (res.status === 204) {
        assert.equal(
          (op.responses["204"] as { content?: unknown }).content,
          undefined,
          `${where}: a 204 is documented with a body`,
        );
      } else {
        validate(
          pointer(
            "paths",
            template,
            method.toLowerCase(),
            "responses",
            String(res.status),
            "content",
            "application/json",
            "schema",
          ),
          answer,
          `${where}: the ${res.status} answer`,
        );
      }

      if (operationId === "createWebhook") {
        ids.set(EXAMPLE.webhookId, answer.id);
        receiver.register("/kiloclaw", answer.secret);
      }
      if (operationId === "sendWebhookTestEvent") {
        // The answer is the delivery after its first attempt.
        assert.equal(answer.delivery.status, "delivered");
        assert.deepEqual(
          receiver.processed("/kiloclaw").map((e) => e.type),
          ["webhook.test"],
          "the receiver verified and took the test event",
        );
      }

      if (operationId === "scheduleAction") {
        ids.set(EXAMPLE.actionId, answer.id);
        const detail = await (await app.api(
          "GET",
          `/api/admin/scheduled-actions/${answer.id}`,
        )).json();
        const [{ target, notifications }] = detail.targets.items;
        ids.set(EXAMPLE.targetId, target.id);
        ids.set(EXAMPLE.notificationId, notifications[0].id);
      }

      if (media && method !== "DELETE") {
        const wrong = await app.request(url, {
          method,
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ notAField: true }),
        });
        assert.equal(wrong.status, 400, `${where} took a wrong body`);
        validate(
          pointer(
            "paths",
            template,
            method.toLowerCase(),
            "responses",
            "400",
            "content",
            "application/json",
            "schema",
          ),
          await wrong.json(),
          `${where}: the 400 answer`,
        );
      }
    }
    assert.equal(
      ids.size,
      5,
      "the schedule example made an action to follow, and a webhook endpoint was registered",
    );
  } finally {
    await app.close();
    await receiver.close();
  }
});

Deno.test("a call without its credential, or by the wrong caller, gets the documented error", async () => {
  const app = await createTestApp({ context: { now: () => NOW } });
  try {
    const doc = buildOpenApiDocument(
      app.ctx.config.publicUrl,
    ) as unknown as Document;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, "openapi.json");
    const user = await app.signIn();
    let checked = 0;
    for (const [operationId, [method, template, op]] of operations(doc)) {
      const security = op.security ?? doc.security;
      if (security.length === 0) continue;
      let path = template;
      for (const p of op.parameters ?? []) {
        if (p.in === "path") {
          path = path.replace(`{${p.name}}`, String(p.schema?.example));
        }
      }
      const schemes = security.flatMap((s) => Object.keys(s));
      const callers: [string, Record<string, string>, number][] = [
        ["no credential", {}, 401],
      ];
      // A signed-in owner is not an admin.
      if (schemes.includes("adminToken")) {
        callers.push(["an owner's session", { cookie: user.cookie }, 403]);
      }
      for (const [who, headers, status] of callers) {
        const res = await app.request(path, { method, headers });
        const where = `${method} ${template} (${operationId}) with ${who}`;
        assert.equal(res.status, status, where);
        assert.ok(
          String(status) in op.responses,
          `${where}: ${status} is not documented`,
        );
        const check = ajv.compile({
          $ref: `openapi.json#/${
            pointer(
              "paths",
              template,
              method.toLowerCase(),
              "responses",
              String(status),
              "content",
              "application/json",
              "schema",
            )
          }`,
        });
        const answer = await res.json();
        assert.ok(check(answer), `${where}: ${ajv.errorsText(check.errors)}`);
        checked++;
      }
    }
    assert.ok(checked >= 30, `only ${checked} calls checked`);
  } finally {
    await app.close();
  }
});
