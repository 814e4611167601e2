// Public types of the Fresh 1.x API this layer implements. Names and shapes follow
// Fresh 1.x's documentation so that app code type-checks against either.
import type { ComponentChildren, ComponentType, JSX, VNode } from "preact";
import type { Hono } from "hono";

export type KnownMethod =
  | "GET"
  | "HEAD"
  | "POST"
  | "PUT"
  | "DELETE"
  | "OPTIONS"
  | "PATCH";

/** Where a request is headed, so middleware can skip assets and internals. */
export type Destination = "internal" | "static" | "route" | "notFound";

export interface RenderOptions {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

// deno-lint-ignore no-explicit-any
export interface FreshContext<State = Record<string, unknown>, Data = any> {
  localAddr?: Deno.NetAddr;
  remoteAddr: Deno.NetAddr;
  url: URL;
  basePath: string;
  /** The matched route's pattern, e.g. `/blog/:slug`. */
  route: string;
  params: Record<string, string>;
  isPartial: boolean;
  destination: Destination;
  config: FreshConfig;
  state: State;
  data: Data;
  error?: unknown;
  render(data?: Data, options?: RenderOptions): Response | Promise<Response>;
  renderNotFound(data?: Data): Response | Promise<Response>;
  next(): Promise<Response>;
  Component: ComponentType<Record<never, never>>;
}

// deno-lint-ignore no-explicit-any
export type HandlerContext<Data = any, State = Record<string, unknown>> =
  FreshContext<State, Data>;
export type MiddlewareHandlerContext<State = Record<string, unknown>> =
  FreshContext<State>;
// deno-lint-ignore no-explicit-any
export type RouteContext<Data = any, State = Record<string, unknown>> =
  FreshContext<State, Data>;

// deno-lint-ignore no-explicit-any
export type Handler<Data = any, State = Record<string, unknown>> = (
  req: Request,
  ctx: HandlerContext<Data, State>,
) => Response | Promise<Response>;

// deno-lint-ignore no-explicit-any
export type Handlers<Data = any, State = Record<string, unknown>> = {
  [K in KnownMethod]?: Handler<Data, State>;
};

export type MiddlewareHandler<State = Record<string, unknown>> = (
  req: Request,
  ctx: MiddlewareHandlerContext<State>,
) => Response | Promise<Response>;

// deno-lint-ignore no-explicit-any
export interface PageProps<Data = any, State = Record<string, unknown>> {
  url: URL;
  route: string;
  params: Record<string, string>;
  data: Data;
  state: State;
  error?: unknown;
  isPartial?: boolean;
  Component: ComponentType<Record<never, never>>;
}
// deno-lint-ignore no-explicit-any
export type AppProps<Data = any, State = Record<string, unknown>> = PageProps<
  Data,
  State
>;
// deno-lint-ignore no-explicit-any
export type LayoutProps<Data = any, State = Record<string, unknown>> =
  PageProps<Data, State>;
// deno-lint-ignore no-explicit-any
export type UnknownPageProps<Data = any, State = Record<string, unknown>> =
  PageProps<Data, State>;
// deno-lint-ignore no-explicit-any
export type ErrorPageProps<Data = any, State = Record<string, unknown>> =
  & PageProps<Data, State>
  & { error: unknown };

export interface RouteConfig {
  /** A URLPattern pathname that replaces the file-derived one. */
  routeOverride?: string;
  csp?: boolean;
  skipInheritedLayouts?: boolean;
  skipAppWrapper?: boolean;
}
export interface LayoutConfig {
  skipInheritedLayouts?: boolean;
  skipAppWrapper?: boolean;
}

/** What a page, layout or app component may be: plain, or async `(req, ctx)`. */
export type AsyncRoute<Data = unknown, State = Record<string, unknown>> = (
  req: Request,
  ctx: RouteContext<Data, State>,
) => Promise<ComponentChildren | Response>;
export type AsyncLayout<Data = unknown, State = Record<string, unknown>> = (
  req: Request,
  ctx: RouteContext<Data, State>,
) => Promise<ComponentChildren | Response>;

/** A module of `routes/`: a page or API route, `_app`, `_layout`, `_404`, `_500` or `_middleware`. */
export interface RouteModule {
  // deno-lint-ignore no-explicit-any
  default?: ComponentType<any> | AsyncRoute<any, any>;
  // deno-lint-ignore no-explicit-any
  handler?: Handler<any, any> | Handlers<any, any> | MiddlewareHandler<any>[];
  config?: RouteConfig | LayoutConfig;
}
export interface IslandModule {
  // deno-lint-ignore no-explicit-any
  [name: string]: any;
}

export interface Manifest {
  routes: Record<string, RouteModule>;
  islands: Record<string, IslandModule>;
  baseUrl: string;
}

export interface PluginMiddleware<State = Record<string, unknown>> {
  /** URL path prefix the middleware applies to, e.g. `/` or `/admin`. */
  path: string;
  middleware: {
    handler: MiddlewareHandler<State> | MiddlewareHandler<State>[];
  };
}
export interface PluginRoute {
  /** A URLPattern pathname, e.g. `/_health` or `/files/:name`. */
  path: string;
  // deno-lint-ignore no-explicit-any
  component?: ComponentType<PageProps<any>>;
  // deno-lint-ignore no-explicit-any
  handler?: Handler<any, any> | Handlers<any, any>;
}
/** The part of Fresh 1.x's plugin API this layer supports: middlewares and routes. */
// deno-lint-ignore no-explicit-any
export interface Plugin<State = any> {
  name: string;
  middlewares?: PluginMiddleware<State>[];
  routes?: PluginRoute[];
}

export interface FreshConfig {
  /** Development mode: no immutable caching of `asset()` URLs. */
  dev?: boolean;
  /** Directory of static files (default `<root>/static`). */
  staticDir?: string;
  /** Directory of the island bundle (default `<root>/_fresh`). */
  buildDir?: string;
  build?: { outDir?: string };
  plugins?: Plugin[];
  /** Not in Fresh 1.x: registers app-wide Hono middleware that runs before routing. */
  setup?: (app: Hono) => void;
  /** The id `asset()` appends to URLs (default: one per process). */
  buildId?: string;
  port?: number;
  hostname?: string;
  signal?: AbortSignal;
  onListen?: (addr: Deno.NetAddr) => void;
  server?: Partial<Deno.ServeTcpOptions>;
}

export type ServeHandler = (
  req: Request,
  info?: Deno.ServeHandlerInfo,
) => Promise<Response>;

export type { ComponentChildren, JSX, VNode };
