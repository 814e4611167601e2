/**
 * Production entry: configuration → KV → the minute jobs → the web server
 * (behind the connection guard unless Deno Deploy fronts it).
 * The Deno.cron jobs are declared first, at the top level, as Deno Deploy
 * requires; they wait for the app to be ready.
 */
import manifest from "./fresh.gen.ts";
import { createHandler } from "$fresh/server.ts";
import { ConfigError, loadConfig } from "./lib/config.ts";
import { openKv } from "./lib/kv/db.ts";
import { createAppContext } from "./lib/app_context.ts";
import { type AppContext, setAppContext } from "./lib/app_context.ts";
import { installSecurity } from "./lib/web/security.ts";
import { renderErrorPage } from "./components/ErrorPage.tsx";
import { seedDemoData } from "./lib/demo_seed.ts";
import {
  runApplyJob,
  runPushReceiptJob,
  runRetentionJob,
  runSweepJob,
  runWebhookJob,
} from "./lib/jobs.ts";
import { log } from "./lib/operations/log.ts";
import { ensureInstanceList } from "./lib/kv/instance_list.ts";
import { serveGuarded } from "./lib/web/connection_guard.ts";

let resolveReady: (ctx: AppContext) => void;
const ready = new Promise<AppContext>((r) => resolveReady = r);

Deno.cron(
  "apply scheduled actions",
  "* * * * *",
  async () => runApplyJob(await ready),
);
Deno.cron("notice sweep", "* * * * *", async () => runSweepJob(await ready));
Deno.cron(
  "webhook deliveries",
  "* * * * *",
  async () => runWebhookJob(await ready),
);
Deno.cron(
  "push receipts",
  "*/5 * * * *",
  async () => runPushReceiptJob(await ready),
);
Deno.cron(
  "retention",
  "17 3 * * *",
  async () => runRetentionJob(await ready),
);

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    Deno.exit(1);
  }
  throw err;
}

const kv = await openKv(config);
const ctx = createAppContext(config, kv);
setAppContext(ctx);

// The demo plays its actions on clocks of its own: the minute jobs wait until it is done.
if (config.demoSeed) {
  const seeded = await seedDemoData(kv, config.publicUrl, Date.now(), ctx);
  if (seeded) {
    console.log(
      [
        "",
        "Demo data created. One-time sign-in links (valid 15 minutes):",
        `  admin (${seeded.adminEmail}): ${seeded.adminLink}`,
        `  user  (${seeded.userEmail}): ${seeded.userLink}`,
        "Later, ask for a new link at /login; it lands in the outbox (/admin/outbox) or the log.",
        "",
      ].join("\n"),
    );
  }
}

resolveReady!(ctx);

// The admin's instance list of a database from before it: built once, in the
// background (the list walks the records until then; the apply tick retries).
ensureInstanceList(kv).catch((err) =>
  log.error("building the instance list failed", { error: String(err) })
);

log.info("starting", {
  port: config.port,
  kv: config.kvPath ?? "deno deploy",
  email: ctx.email.name,
  push: config.pushViaExpo ? "expo" : "outbox",
  controller: ctx.controller.name,
});
const handler = await createHandler(manifest, {
  setup: (app) => installSecurity(app, renderErrorPage),
  buildId: config.deploymentId ?? undefined,
});
if (config.onDeploy) {
  // Deploy's own front holds the connections.
  await Deno.serve({ port: config.port }, handler).finished;
} else {
  const server = serveGuarded(handler, {
    port: config.port,
    maxConnections: config.maxConnections ?? undefined,
    onListen: ({ port }) => log.info("listening", { port }),
  });
  await server.finished;
}
