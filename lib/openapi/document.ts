/**
 * The OpenAPI 3.1 document of every `/api` route, built from the zod schemas
 * the routes validate with and the answer schemas beside the domain code, so
 * the document cannot say something the code does not check. Adding a route
 * is one entry in `paths` (`paths.ts`); the tests list any route left out.
 */
import { ADMIN, ok } from "./operation_parts.ts";
import { paths } from "./paths.ts";
import { webhooks } from "./webhook_events.ts";
import { z } from "zod";
import { createDocument } from "zod-openapi";
import { SESSION_COOKIE } from "../auth/sessions.ts";

const OpenApiSelfSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
}).meta({ id: "OpenApiDocument" });

const documentPaths = {
  ...paths,
  "/api/openapi.json": {
    get: {
      tags: ["Reference"],
      operationId: "getOpenApiDocument",
      summary: "This document",
      security: [],
      responses: { "200": ok("The OpenAPI 3.1 document.", OpenApiSelfSchema) },
    },
  },
};

export function buildOpenApiDocument(publicUrl: string) {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "KiloClaw Scheduler API",
      version: "1.0.0",
      description:
        "Schedule restarts and version changes for hosted KiloClaw instances, follow them, and read what owners see. Every error is `{error, issues?}`.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: publicUrl }],
    tags: [
      {
        name: "Actions",
        description: "Scheduling, following, moving and cancelling actions.",
      },
      { name: "Notices", description: "The notice sweep." },
      { name: "Audit", description: "Every admin change." },
      {
        name: "Records",
        description: "Users, instances and the image catalog.",
      },
      {
        name: "Owners",
        description: "What a signed-in owner reads and registers.",
      },
      {
        name: "Internal",
        description: "Between deployments of the scheduler.",
      },
      {
        name: "Webhooks",
        description:
          "Endpoints that hear about actions, and what is sent to them.",
      },
      { name: "Reference", description: "This document." },
    ],
    security: ADMIN,
    paths: documentPaths,
    webhooks,
    components: {
      securitySchemes: {
        adminToken: {
          type: "http",
          scheme: "bearer",
          description:
            "`Authorization: Bearer $ADMIN_API_TOKEN` (the admin API).",
        },
        session: {
          type: "apiKey",
          in: "cookie",
          name: SESSION_COOKIE,
          description: "The session cookie a sign-in link sets.",
        },
        internalSecret: {
          type: "apiKey",
          in: "header",
          name: "X-Internal-Secret",
          description: "`INTERNAL_API_SECRET`, shared between deployments.",
        },
      },
    },
  });
}

let built: { publicUrl: string; document: unknown } | null = null;

/** The document for this origin, built once (it depends on nothing else). */
export function openApiDocument(publicUrl: string): unknown {
  if (built?.publicUrl !== publicUrl) {
    built = { publicUrl, document: buildOpenApiDocument(publicUrl) };
  }
  return built.document;
}
