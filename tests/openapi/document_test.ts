/**
 * The OpenAPI document covers every `/api` route and method of fresh.gen.ts,
 * and passes Redocly's recommended rules with no error.
 */
import assert from "node:assert/strict";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import manifest from "@/fresh.gen.ts";
import { buildOpenApiDocument } from "@/lib/openapi/document.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** `./routes/api/admin/scheduled-actions/[id]/cancel.ts` → `/api/admin/scheduled-actions/{id}/cancel`. */
function openApiPath(key: string): string {
  const path = key.replace(/^\.\/routes/, "").replace(/\.(tsx|ts)$/, "")
    .replace(/\/index$/, "").replace(/\[([^\]]+)\]/g, "{$1}");
  return path;
}

/** Every `METHOD /path` the manifest serves under /api. */
export function manifestOperations(): string[] {
  const found: string[] = [];
  for (const [key, module] of Object.entries(manifest.routes)) {
    if (!key.startsWith("./routes/api/") || /\/_[^/]+$/.test(key)) continue;
    const handler = (module as { handler?: unknown }).handler;
    const methods = typeof handler === "function"
      ? ["GET", "POST"]
      : METHODS.filter((m) =>
        typeof (handler as Record<string, unknown> | undefined)?.[m] ===
          "function"
      );
    for (const m of methods) found.push(`${m} ${openApiPath(key)}`);
  }
  return found.sort();
}

function documentOperations(doc: { paths?: Record<string, object> }): string[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item).filter((k) => METHODS.includes(k.toUpperCase() as never))
      .map((m) => `${m.toUpperCase()} ${path}`)
  ).sort();
}

Deno.test("every /api route and method of the manifest is in the document", () => {
  const doc = buildOpenApiDocument("http://localhost:8000");
  const documented = new Set(documentOperations(doc));
  const served = manifestOperations();
  assert.ok(served.length >= 18, `found only ${served.length} API operations`);
  const missing = served.filter((op) => !documented.has(op));
  assert.deepEqual(
    missing,
    [],
    `missing from the OpenAPI document:\n${missing.join("\n")}`,
  );
  // Nor does it describe a route the app does not serve.
  const served_ = new Set(served);
  const extra = [...documented].filter((op) => !served_.has(op));
  assert.deepEqual(
    extra,
    [],
    `documented but not served:\n${extra.join("\n")}`,
  );
});

Deno.test("each documented operation has an id, a success answer and the error shape", () => {
  const doc = buildOpenApiDocument("http://localhost:8000") as unknown as {
    paths: Record<
      string,
      Record<
        string,
        { operationId?: string; responses: Record<string, unknown> }
      >
    >;
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(op.operationId, `${where} has no operationId`);
      const statuses = Object.keys(op.responses);
      assert.ok(
        statuses.some((s) => s.startsWith("2")),
        `${where} has no 2xx answer`,
      );
      if (path !== "/api/openapi.json") {
        assert.ok(statuses.includes("401"), `${where} does not document 401`);
      }
    }
  }
});

Deno.test("the document passes Redocly's recommended rules with no error", async () => {
  const doc = buildOpenApiDocument("http://localhost:8000");
  const config = await createConfig({ extends: ["recommended"] });
  const problems = await lintFromString({
    source: JSON.stringify(doc),
    absoluteRef: "openapi.json",
    config,
  });
  const show = (p: (typeof problems)[number]) =>
    `${p.ruleId}: ${p.message} at ${
      p.location.map((l) => l.pointer).join(", ")
    }`;
  const errors = problems.filter((p) => p.severity === "error");
  assert.deepEqual(errors.map(show), []);
  const warnings = problems.filter((p) => p.severity === "warn");
  if (warnings.length) console.log(warnings.map(show).join("\n"));
});
