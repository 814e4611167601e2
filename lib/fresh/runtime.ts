// `$fresh/runtime.ts`: what both server components and islands may import.
import type { ComponentChildren, VNode } from "preact";
import { useContext } from "preact/hooks";
import { HeadContext } from "./head.ts";
import { getBuildId } from "./build_info.ts";

export const IS_BROWSER: boolean = typeof document !== "undefined";

/**
 * Adds the build id to a root-relative URL so the file can be cached forever;
 * other URLs (absolute, protocol-relative, relative) come back unchanged.
 */
export function asset(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//")) return path;
  const id = getBuildId();
  if (!id) return path;
  try {
    const url = new URL(path, "https://freshassetcache.local");
    if (url.searchParams.has("__frsh_c")) return path;
    url.searchParams.set("__frsh_c", id);
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
