// `$fresh/runtime.ts`: what both server components and islands may import.
import type { ComponentChildren, VNode } from "preact";
import { useContext } from "preact/hooks";
import { HeadContext } from "./head.ts";
import {
  ASSET_VERSION_PARAM,
  getAssetVersions,
  getBuildId,
} from "./build_info.ts";

export const IS_BROWSER: boolean = typeof document !== "undefined";

/**
 * Versions a root-relative URL so the file can be cached forever: a file of
 * static/ gets its content hash (a new URL whenever it changes), anything else
 * the build id. Other URLs (absolute, protocol-relative, relative) come back
 * unchanged.
 */
export function asset(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//")) return path;
  try {
    const url = new URL(path, "https://freshassetcache.local");
    if (url.searchParams.has(ASSET_VERSION_PARAM)) return path;
    const version = getAssetVersions()[decodeURIComponent(url.pathname)] ??
      getBuildId();
    if (!version) return path;
    url.searchParams.set(ASSET_VERSION_PARAM, version);
    return url.pathname + url.search + url.hash;
  } catch {
    return path;
  }
}

/** Moves its children into the page's <head>; renders nothing where it stands. */
export function Head(props: { children?: ComponentChildren }): VNode | null {
  const collector = useContext(HeadContext);
  if (collector && !IS_BROWSER) collector.add(props.children);
  return null;
}
