// Files of static/: listed and hashed once at start. Each answers with its
// content hash as ETag (304 on If-None-Match); at the URL `asset()` gives it
// (carrying that same hash) it is cached forever, at any other URL it is
// revalidated on every use, so a page never meets a stale file.
import { getMimeType } from "hono/utils/mime";
import { sha256Hex } from "./hash.ts";
import {
  ASSET_VERSION_PARAM,
  setAssetVersion,
  setAssetVersions,
} from "./build_info.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";
/** Unversioned URLs: any cache may keep the file but must ask (an ETag round trip) before each use. */
export const REVALIDATE = "public, no-cache";

interface StaticEntry {
  path: string;
  version: string;
  stamp: string;
}

export class StaticFiles {
  #files = new Map<string, StaticEntry>();

  private constructor(readonly dir: string) {}

  /** Lists and hashes `dir`, and hands the hashes to `asset()`. */
  static async load(dir: string): Promise<StaticFiles> {
    const files = new StaticFiles(dir);
    await files.#scan(dir, "");
    setAssetVersions(
      Object.fromEntries(
        [...files.#files].map(([urlPath, entry]) => [urlPath, entry.version]),
      ),
    );
    return files;
  }

  async #scan(dir: string, prefix: string): Promise<void> {
    const entries: Deno.DirEntry[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) entries.push(entry);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      const urlPath = `${prefix}/${entry.name}`;
      if (entry.isDirectory) await this.#scan(path, urlPath);
      else if (entry.isFile) {
        this.#files.set(urlPath, await hashed(path, await Deno.stat(path)));
      }
    }
  }

  has(pathname: string): boolean {
    return this.#files.has(decodePath(pathname));
  }

  async serve(req: Request, url: URL, dev: boolean): Promise<Response> {
    const urlPath = decodePath(url.pathname);
    let entry = this.#files.get(urlPath);
    if (!entry) return new Response("Not Found", { status: 404 });
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(entry.path);
    } catch {
      return new Response("Not Found", { status: 404 });
    }
    // A file edited while the app runs (development) gets a new hash and URL.
    if (entry.stamp !== stamp(info) || info.mtime === null) {
      entry = await hashed(entry.path, info);
      this.#files.set(urlPath, entry);
      setAssetVersion(urlPath, entry.version);
    }
    const etag = `"${entry.version}"`;
    const versioned = !dev &&
      url.searchParams.get(ASSET_VERSION_PARAM) === entry.version;
    const headers = new Headers({
      "Content-Type": getMimeType(entry.path) ?? "application/octet-stream",
      ETag: etag,
      "Cache-Control": versioned ? IMMUTABLE : REVALIDATE,
      Vary: "Accept-Encoding",
    });
    if (matchesEtag(req.headers.get("If-None-Match"), etag)) {
      return new Response(null, { status: 304, headers });
    }
    headers.set("Content-Length", String(info.size));
    if (req.method === "HEAD") {
      return new Response(null, { status: 200, headers });
    }
    const file = await Deno.open(entry.path, { read: true });
    return new Response(file.readable, { status: 200, headers });
  }
}

async function hashed(path: string, info: Deno.FileInfo): Promise<StaticEntry> {
  const version = (await sha256Hex(await Deno.readFile(path))).slice(0, 16);
  return { path, version, stamp: stamp(info) };
}

function stamp(info: Deno.FileInfo): string {
  return `${info.size}:${info.mtime?.getTime() ?? ""}`;
}

/** A weak tag (W/, what a compressed answer carries) matches its strong form. */
export function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) =>
    tag.trim().replace(/^W\//, "") === etag
  );
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}
