// The request pipeline: Hono runs the app-wide middleware from `setup`, then every
// request goes through Fresh's own order — destination, `_middleware` chain (outer
// first, sharing ctx.state), then the route, static file, bundle file or _404.
// Errors thrown anywhere inside propagate out of `ctx.next()` and, if nothing
// catches them, render _500.
import { Hono } from "hono";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ClientBundle, islandSources, loadOrBuild } from "./build.ts";
import { registerIslands } from "./islands.ts";
import { renderPage } from "./render.ts";
import {
  byPrecedence,
  compilePattern,
  compileSegments,
  isSpecial,
  type Matcher,
  parseRouteKey,
  type RouteFile,
  routeMatcher,
  urlSegments,
} from "./router.ts";
import { getBuildId, isDevMode, setBuildId } from "./build_info.ts";
import { IMMUTABLE, StaticFiles } from "./static.ts";
import type {
  Destination,
  FreshConfig,
  FreshContext,
  Handler,
  Handlers,
  LayoutConfig,
  Manifest,
  MiddlewareHandler,
  RenderOptions,
  RouteConfig,
  RouteModule,
  ServeHandler,
} from "./types.ts";

interface Route {
  key: string;
  matcher: Matcher;
  module: RouteModule;
  layouts: RouteModule[];
  skipApp: boolean;
}

interface Middleware {
  matcher: Matcher;
  handlers: MiddlewareHandler[];
}

interface App {
  config: FreshConfig;
  dev: boolean;
  routes: Route[];
  middlewares: Middleware[];
  app?: RouteModule;
  notFound?: RouteModule;
  error?: RouteModule;
  staticFiles: StaticFiles;
  bundle: ClientBundle | null;
}

const FALLBACK_ADDR: Deno.NetAddr = {
  transport: "tcp",
  hostname: "127.0.0.1",
  port: 0,
};
const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
] as const;

/** Builds the app's request handler: `(req, info?) => Promise<Response>`. */
export async function createHandler(
  manifest: Manifest,
  config: FreshConfig = {},
): Promise<ServeHandler> {
  const root = fileURLToPath(new URL(".", manifest.baseUrl));
  const files = Object.entries(manifest.routes).map(([key, mod]) =>
    parseRouteKey(key, mod)
  );
  const top = (name: string) =>
    files.find((f) => f.name === name && f.dirs.length === 0);

  const islandRefs = registerIslands(manifest);
  const sources = islandSources(
    Object.keys(manifest.islands),
    manifest.baseUrl,
  );
  const buildDir = config.buildDir ?? config.build?.outDir ??
    join(root, "_fresh");
  const bundle = islandRefs.length
    ? await loadOrBuild(root, buildDir, sources)
    : null;

  if (config.buildId) setBuildId(config.buildId);
  else if (!getBuildId()) {
    setBuildId(crypto.randomUUID().replaceAll("-", "").slice(0, 12));
  }

  const app: App = {
    config,
    dev: config.dev ?? isDevMode(),
    routes: [...pageRoutes(files), ...pluginRoutes(config)].sort((a, b) =>
      byPrecedence(a.matcher, b.matcher)
    ),
    middlewares: [...pluginMiddlewares(config), ...fileMiddlewares(files)],
    app: top("_app")?.module,
    notFound: top("_404")?.module,
    error: top("_500")?.module,
    staticFiles: await StaticFiles.load(
      config.staticDir ?? join(root, "static"),
    ),
    bundle,
  };

  const hono = new Hono();
  config.setup?.(hono);
  hono.all(
    "*",
    (c) => dispatch(app, c.req.raw, c.env as Deno.ServeHandlerInfo | undefined),
  );
  hono.onError((error, c) =>
    renderError(app, c.req.raw, baseContext(app, c.req.raw), error)
  );
  return async (req, info) => await hono.fetch(req, info);
}

function layoutsFor(
  file: RouteFile,
  layouts: Map<string, RouteModule>,
): RouteModule[] {
  const config = file.module.config as RouteConfig | undefined;
  if (config?.skipInheritedLayouts) return [];
  let chain: RouteModule[] = [];
  for (let depth = 0; depth <= file.dirs.length; depth++) {
    const layout = layouts.get(file.dirs.slice(0, depth).join("/"));
    if (!layout) continue;
    if ((layout.config as LayoutConfig | undefined)?.skipInheritedLayouts) {
      chain = [];
    }
    chain.push(layout);
  }
  return chain;
}

function pageRoutes(files: RouteFile[]): Route[] {
  const layouts = new Map(
    files.filter((f) => f.name === "_layout").map((
      f,
    ) => [f.dirs.join("/"), f.module]),
  );
  return files.filter((f) => !isSpecial(f)).map((file) => {
    const chain = layoutsFor(file, layouts);
    const skipApp = Boolean(
      (file.module.config as RouteConfig | undefined)?.skipAppWrapper ||
        chain.some((l) =>
          (l.config as LayoutConfig | undefined)?.skipAppWrapper
        ),
    );
    return {
      key: file.key,
      matcher: routeMatcher(file),
      module: file.module,
      layouts: chain,
      skipApp,
    };
  });
}

function pluginRoutes(config: FreshConfig): Route[] {
  return (config.plugins ?? []).flatMap((plugin) =>
    (plugin.routes ?? []).map((route) => ({
      key: `plugin:${plugin.name}${route.path}`,
      matcher: compilePattern(route.path),
      module: { default: route.component, handler: route.handler },
      layouts: [],
      skipApp: false,
    }))
  );
}

function flatten(handler: unknown): MiddlewareHandler[] {
  return (Array.isArray(handler) ? handler : [handler]).filter((h) =>
    typeof h === "function"
  );
}

function fileMiddlewares(files: RouteFile[]): Middleware[] {
  return files.filter((f) => f.name === "_middleware")
    .sort((a, b) => a.dirs.length - b.dirs.length || (a.key < b.key ? -1 : 1))
    .map((file) => ({
      matcher: compileSegments(urlSegments(file.dirs), true),
      handlers: flatten(file.module.handler),
    }));
}

function pluginMiddlewares(config: FreshConfig): Middleware[] {
  return (config.plugins ?? []).flatMap((plugin) =>
    (plugin.middlewares ?? []).map((entry) => ({
      matcher: compileSegments(entry.path.split("/").filter(Boolean), true),
      handlers: flatten(entry.middleware.handler),
    }))
  );
}

function baseContext(
  app: App,
  req: Request,
  info?: Deno.ServeHandlerInfo,
): FreshContext {
  const ctx: FreshContext = {
    url: new URL(req.url),
    remoteAddr: (info?.remoteAddr as Deno.NetAddr | undefined) ?? FALLBACK_ADDR,
    basePath: "",
    route: "",
    params: {},
    isPartial: false,
    destination: "notFound",
    config: app.config,
    state: {},
    data: undefined,
    Component: () => null,
    render: () => {
      throw new Error("ctx.render() is only available in a route handler");
    },
    renderNotFound: (data) => renderNotFound(app, req, ctx, data),
    next: () =>
      Promise.reject(new Error("ctx.next() called outside a middleware")),
  };
  return ctx;
}

async function dispatch(
  app: App,
  req: Request,
  info: Deno.ServeHandlerInfo | undefined,
): Promise<Response> {
  const ctx = baseContext(app, req, info);
  const { pathname } = ctx.url;
  if (pathname.length > 1 && pathname.endsWith("/")) {
    // Collapsing leading slashes keeps `//evil.example/` from becoming an open redirect.
    const path = "/" + pathname.replace(/^\/+|\/+$/g, "");
    return new Response(null, {
      status: 307,
      headers: { Location: path + ctx.url.search },
    });
  }
  let route: Route | undefined;
  let destination: Destination = "notFound";
  const readOnly = req.method === "GET" || req.method === "HEAD";
  if (pathname.startsWith("/_frsh/")) destination = "internal";
  else if (readOnly && app.staticFiles.has(pathname)) destination = "static";
  else {
    for (const candidate of app.routes) {
      const params = candidate.matcher.match(pathname);
      if (!params) continue;
      route = candidate;
      ctx.params = params;
      ctx.route = candidate.matcher.pattern;
      destination = "route";
      break;
    }
  }
  ctx.destination = destination;

  const chain = app.middlewares.filter((m) => m.matcher.match(pathname))
    .flatMap((m) => m.handlers);
  const final = (): Promise<Response> => {
    switch (destination) {
      case "internal":
        return Promise.resolve(serveBundleFile(app, pathname));
      case "static":
        return app.staticFiles.serve(req, ctx.url, app.dev);
      case "route":
        return routeResponse(app, req, ctx, route!);
      default:
        return renderNotFound(app, req, ctx, undefined);
    }
  };
  const step = (index: number) => async (): Promise<Response> => {
    if (index >= chain.length) return await final();
    ctx.next = step(index + 1);
    return await chain[index](req, ctx);
  };
  let response: Response;
  try {
    response = await step(0)();
  } catch (error) {
    response = await renderError(app, req, ctx, error);
  }
  return withMutableHeaders(response);
}

/** Later Hono middleware (security headers) must be able to set headers on any response. */
function withMutableHeaders(response: Response): Response {
  if (response.status === 101) return response;
  try {
    response.headers.set("X-Fresh-Probe", "1");
    response.headers.delete("X-Fresh-Probe");
    return response;
  } catch {
    return new Response(response.body, response);
  }
}

function serveBundleFile(app: App, pathname: string): Response {
  const match = pathname.match(/^\/_frsh\/js\/([^/]+)\/(.+)$/);
  const contents = match && app.bundle?.buildId === match[1]
    ? app.bundle.files.get(match[2])
    : undefined;
  if (!contents) return new Response("Not Found", { status: 404 });
  return new Response(contents as BufferSource, {
    headers: {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": IMMUTABLE,
    },
  });
}

function methodNotAllowed(allowed: string[]): Response {
  return new Response("Method Not Allowed", {
    status: 405,
    headers: { Allow: allowed.join(", ") },
  });
}

async function routeResponse(
  app: App,
  req: Request,
  ctx: FreshContext,
  route: Route,
): Promise<Response> {
  const mod = route.module;
  ctx.render = (data, options) => {
    if (!mod.default) {
      throw new Error(`${route.key} has no default export component to render`);
    }
    ctx.data = data;
    return renderPage({
      req,
      ctx,
      page: mod.default,
      layouts: route.layouts,
      app: route.skipApp ? undefined : app.app,
      bundle: app.bundle,
      ...renderInit(options),
    });
  };
  const handler = mod.handler as Handler | Handlers | undefined;
  if (typeof handler === "function") return await handler(req, ctx);
  const methods: Handlers = handler ?? {};
  const renderDefault: Handler | undefined = mod.default
    ? (_req, c) => c.render()
    : undefined;
  const method = req.method.toUpperCase() as keyof Handlers;
  const get = methods.GET ?? renderDefault;
  const chosen = methods[method] ?? (method === "GET" ? get : undefined);
  if (chosen) return await chosen(req, ctx);
  if (method === "HEAD" && get) {
    const response = await get(req, ctx);
    return new Response(null, response);
  }
  const allowed = METHODS.filter((m) =>
    methods[m] || (get && (m === "GET" || m === "HEAD"))
  );
  return methodNotAllowed(allowed);
}

function renderInit(options: RenderOptions | undefined) {
  return {
    status: options?.status,
    statusText: options?.statusText,
    headers: options?.headers,
  };
}

async function renderNotFound(
  app: App,
  req: Request,
  ctx: FreshContext,
  data: unknown,
): Promise<Response> {
  const mod = app.notFound;
  if (!mod?.default && !mod?.handler) {
    return new Response("Not Found", { status: 404 });
  }
  const notFoundCtx: FreshContext = { ...ctx, data };
  notFoundCtx.render = (pageData, options) => {
    if (!mod.default) {
      throw new Error("routes/_404 has no default export component to render");
    }
    notFoundCtx.data = pageData;
    return renderPage({
      req,
      ctx: notFoundCtx,
      page: mod.default,
      layouts: [],
      app: app.app,
      bundle: app.bundle,
      ...renderInit(options),
      status: options?.status ?? 404,
    });
  };
  const handler = mod.handler as Handler | Handlers | undefined;
  const fn = typeof handler === "function" ? handler : handler?.GET;
  return await (fn ? fn(req, notFoundCtx) : notFoundCtx.render(data));
}

async function renderError(
  app: App,
  req: Request,
  ctx: FreshContext,
  error: unknown,
): Promise<Response> {
  console.error(
    `Error while handling ${req.method} ${new URL(req.url).pathname}:`,
    error,
  );
  const mod = app.error;
  if (mod?.default) {
    try {
      return await renderPage({
        req,
        ctx: { ...ctx, error },
        page: mod.default,
        layouts: [],
        app: app.app,
        bundle: app.bundle,
        status: 500,
      });
    } catch (renderFailure) {
      console.error("The _500 page failed to render too:", renderFailure);
    }
  }
  return new Response("Internal Server Error", {
    status: 500,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}
