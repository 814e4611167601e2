// Renders a page: the page component inside its layouts inside _app, to one HTML
// document with <Head> content in <head> and, only when islands were rendered,
// the islands' JSON data block plus the external boot module.
import {
  type ComponentChildren,
  type ComponentType,
  h,
  toChildArray,
  type VNode,
} from "preact";
import { renderToString } from "preact-render-to-string";
import { bundleUrl, type ClientBundle } from "./build.ts";
import { HeadContext } from "./head.ts";
import { IslandCollector, IslandContext } from "./islands.ts";
import { jsonForScript } from "./serialize.ts";
import { getAssetVersions, getBuildId } from "./build_info.ts";
import type { FreshContext, PageProps, RouteModule } from "./types.ts";
import { versionStaticUrls } from "./asset_urls.ts";

versionStaticUrls();

// deno-lint-ignore no-explicit-any
type AnyComponent = ComponentType<any> | ((req: Request, ctx: any) => any);

export interface RenderInput {
  req: Request;
  ctx: FreshContext;
  page: AnyComponent;
  /** Outermost first. */
  layouts: RouteModule[];
  app?: RouteModule;
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
  bundle: ClientBundle | null;
}

/** Async components are Fresh's `(req, ctx)` route components. */
export function isAsyncComponent(fn: unknown): boolean {
  return typeof fn === "function" && fn.constructor?.name === "AsyncFunction";
}

function pageProps(ctx: FreshContext, Component: ComponentType): PageProps {
  return {
    url: ctx.url,
    route: ctx.route,
    params: ctx.params,
    data: ctx.data,
    state: ctx.state,
    error: ctx.error,
    isPartial: false,
    Component,
  };
}

const Empty = () => null;

/** Calls or wraps one level; a Response from an async component ends the render. */
async function level(
  component: AnyComponent,
  input: RenderInput,
  Component: ComponentType,
): Promise<ComponentChildren | Response> {
  if (isAsyncComponent(component)) {
    return await (component as (
      req: Request,
      ctx: FreshContext,
    ) => Promise<unknown>)(
      input.req,
      { ...input.ctx, Component },
    ) as ComponentChildren | Response;
  }
  return h(
    component as ComponentType<PageProps>,
    pageProps(input.ctx, Component),
  );
}

export async function renderPage(input: RenderInput): Promise<Response> {
  let element = await level(input.page, input, Empty);
  if (element instanceof Response) return element;
  const wrappers = [...input.layouts].reverse();
  if (input.app) wrappers.push(input.app);
  for (const wrapper of wrappers) {
    const inner: ComponentChildren = element;
    element = await level(
      wrapper.default as AnyComponent,
      input,
      () => inner as VNode,
    );
    if (element instanceof Response) return element;
  }
  const html = renderDocument(element, input.bundle);
  const headers = new Headers(input.headers);
  if (!headers.has("Content-Type")) {
    headers.set("Content-Type", "text/html; charset=utf-8");
  }
  return new Response(html, {
    status: input.status ?? 200,
    statusText: input.statusText,
    headers,
  });
}

function renderDocument(
  element: ComponentChildren,
  bundle: ClientBundle | null,
): string {
  const head: ComponentChildren[] = [];
  const islands = new IslandCollector();
  const body = renderToString(
    h(
      HeadContext.Provider,
      { value: { add: (children) => head.push(children) } },
      h(IslandContext.Provider, {
        value: { collector: islands, inside: false },
      }, element),
    ),
  );
  const headHtml = renderHead(head);
  const scripts = islands.islands.length ? islandScripts(islands, bundle) : "";
  const html = body.trimStart();
  if (!/^<html[\s>]/i.test(html)) {
    return `<!DOCTYPE html><html><head><meta charset="utf-8">` +
      `<meta name="viewport" content="width=device-width, initial-scale=1.0">` +
      `${headHtml}</head><body>${html}${scripts}</body></html>`;
  }
  return "<!DOCTYPE html>" + insertScripts(insertHead(html, headHtml), scripts);
}

function insertHead(html: string, headHtml: string): string {
  if (!headHtml) return html;
  const close = html.search(/<\/head>/i);
  if (close >= 0) {
    let before = html.slice(0, close);
    // A page's <Head><title> wins over the one _app wrote: browsers use the first.
    if (/<title[\s>]/i.test(headHtml)) {
      before = before.replace(/<title[\s>][\s\S]*?<\/title>/i, "");
    }
    return before + headHtml + html.slice(close);
  }
  const open = html.indexOf(">") + 1;
  return html.slice(0, open) + `<head>${headHtml}</head>` + html.slice(open);
}

function insertScripts(html: string, scripts: string): string {
  if (!scripts) return html;
  const lower = html.toLowerCase();
  const at = lower.lastIndexOf("</body>");
  const end = at >= 0 ? at : lower.lastIndexOf("</html>");
  return end >= 0
    ? html.slice(0, end) + scripts + html.slice(end)
    : html + scripts;
}

/** <Head> children in order; a later <title> or same-key element replaces an earlier one. */
function renderHead(chunks: ComponentChildren[]): string {
  const nodes: ComponentChildren[] = [];
  const byKey = new Map<string, number>();
  for (const chunk of chunks) {
    for (const child of toChildArray(chunk)) {
      const vnode = child as VNode;
      const key = typeof vnode === "object" && vnode
        ? vnode.type === "title"
          ? "title"
          : vnode.key != null
          ? `key:${vnode.key}`
          : null
        : null;
      if (key && byKey.has(key)) nodes[byKey.get(key)!] = child;
      else {
        if (key) byKey.set(key, nodes.length);
        nodes.push(child);
      }
    }
  }
  return nodes.map((node) => renderToString(node as VNode)).join("");
}

function islandScripts(
  collector: IslandCollector,
  bundle: ClientBundle | null,
): string {
  if (!bundle) {
    throw new Error("This page renders islands but no island bundle was built");
  }
  const data = {
    // asset() in the browser must produce the same URLs as on the server.
    buildId: getBuildId(),
    assets: getAssetVersions(),
    islands: collector.islands.map((island) => {
      const file = bundle.islands[island.file];
      if (!file) {
        throw new Error(`Island ${island.file} is missing from the bundle`);
      }
      return {
        u: bundleUrl(bundle, file),
        e: island.exportName,
        p: island.props,
        c: island.hasChildren,
      };
    }),
  };
  return `<script type="application/json" id="__FRSH_STATE">${
    jsonForScript(data)
  }</script>` +
    `<script type="module" src="${bundleUrl(bundle, bundle.main)}"></script>`;
}
