// Versions the URLs of static/ files that pages name in `<link href>`,
// `<script src>`, `<img src>` and `<source src>`, as if written with `asset()`:
// a page then always names the file's current content, which may be cached
// forever. Fresh 1.x does this for images; stylesheets and scripts matter more.
// `data-fresh-disable-lock` on an element leaves its URL alone, as in Fresh.
import { options, type VNode } from "preact";
import { getAssetVersions } from "./build_info.ts";
import { asset } from "./runtime.ts";

const URL_PROP = new Map([
  ["link", "href"],
  ["script", "src"],
  ["img", "src"],
  ["source", "src"],
]);

let installed = false;

export function versionStaticUrls(): void {
  if (installed) return;
  installed = true;
  const previous = options.vnode;
  options.vnode = (vnode: VNode) => {
    const prop = typeof vnode.type === "string" && URL_PROP.get(vnode.type);
    if (prop) {
      const props = vnode.props as Record<string, unknown>;
      const url = props[prop];
      if (
        typeof url === "string" && url.startsWith("/") &&
        !props["data-fresh-disable-lock"] &&
        getAssetVersions()[url.split(/[?#]/, 1)[0]] !== undefined
      ) {
        props[prop] = asset(url);
      }
    }
    previous?.(vnode);
  };
}
