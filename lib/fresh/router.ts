// Turns manifest keys (`./routes/blog/[slug].tsx`) into matchers and orders them
// the way Fresh 1.x does: static segments before dynamic, dynamic before catch-all.
import type { RouteModule } from "./types.ts";

type SegmentKind = 0 | 1 | 2 | 3; // static, mixed, [param], [...rest]

export interface Matcher {
  /** The pattern shown as `ctx.route`, e.g. `/blog/:slug`. */
  pattern: string;
  match(pathname: string): Record<string, string> | null;
  rank: SegmentKind[];
}

const SPECIAL = new Set(["_app", "_layout", "_middleware", "_404", "_500"]);

export interface RouteFile {
  key: string;
  module: RouteModule;
  /** Directory segments below routes/, groups included, e.g. ["(admin)", "users"]. */
  dirs: string[];
  /** File name without extension. */
  name: string;
}

export function parseRouteKey(key: string, module: RouteModule): RouteFile {
  const path = key.replace(/^\.\/routes\//, "").replace(
    /\.(tsx|ts|jsx|js)$/,
    "",
  );
  const parts = path.split("/");
  const name = parts.pop()!;
  return { key, module, dirs: parts, name };
}

export function isSpecial(file: RouteFile): boolean {
  return SPECIAL.has(file.name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Builds the matcher for path segments (groups already removed); `prefix` also matches deeper paths. */
export function compileSegments(segments: string[], prefix = false): Matcher {
  const names: string[] = [];
  const rank: SegmentKind[] = [];
  let source = "";
  let pattern = "";
  for (const segment of segments) {
    const rest = segment.match(/^\[\.\.\.([^\]]+)\]$/);
    if (rest) {
      names.push(rest[1]);
      rank.push(3);
      source += "(?:/(.*))?";
      pattern += `/:${rest[1]}*`;
      continue;
    }
    let kind: SegmentKind = 0;
    source += "/";
    pattern += "/";
    for (const piece of segment.split(/(\[[^\]]+\])/)) {
      const param = piece.match(/^\[([^\]]+)\]$/);
      if (param) {
        names.push(param[1]);
        kind = piece === segment ? 2 : 1;
        source += "([^/]+?)";
        pattern += `:${param[1]}`;
      } else if (piece) {
        if (kind === 0 && piece !== segment) kind = 1;
        source += escapeRegExp(piece);
        pattern += piece;
      }
    }
    rank.push(kind);
  }
  const test = segments.length === 0
    ? (prefix ? /^\// : /^\/$/)
    : new RegExp(`^${source}${prefix ? "(?:/.*)?" : ""}$`);
  return {
    pattern: pattern || "/",
    rank,
    match(pathname) {
      const found = pathname.match(test);
      if (!found) return null;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        const raw = found[i + 1] ?? "";
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          params[name] = raw;
        }
      });
      return params;
    },
  };
}

/** A matcher from a URLPattern pathname (`config.routeOverride`, plugin routes). */
export function compilePattern(pathname: string): Matcher {
  const urlPattern = new URLPattern({ pathname });
  const rank = pathname.split("/").filter(Boolean).map((segment): SegmentKind =>
    segment.includes("*") || /:\w+[*+]/.test(segment)
      ? 3
      : segment.startsWith(":")
      ? 2
      : segment.includes(":")
      ? 1
      : 0
  );
  return {
    pattern: pathname,
    rank,
    match(path) {
      const found = urlPattern.exec({ pathname: path });
      if (!found) return null;
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(found.pathname.groups)) {
        if (value !== undefined) params[name] = value;
      }
      return params;
    },
  };
}

/** URL segments of a file's directory: route groups `(name)` take no part in the URL. */
export function urlSegments(dirs: string[]): string[] {
  return dirs.filter((dir) => !/^\(.+\)$/.test(dir));
}

export function routeMatcher(file: RouteFile): Matcher {
  const override =
    (file.module.config as { routeOverride?: string } | undefined)
      ?.routeOverride;
  if (override) return compilePattern(override);
  const segments = urlSegments(file.dirs);
  if (file.name !== "index") segments.push(file.name);
  return compileSegments(segments);
}

/** Orders matchers by precedence: compares segment kinds left to right. */
export function byPrecedence(a: Matcher, b: Matcher): number {
  const length = Math.max(a.rank.length, b.rank.length);
  for (let i = 0; i < length; i++) {
    const x = a.rank[i];
    const y = b.rank[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x - y;
  }
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}
