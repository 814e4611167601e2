// Files of static/: listed once at start, served with a content ETag (304 on
// If-None-Match) and, for `asset()` URLs carrying the current build id, cached forever.
import { getMimeType } from "hono/utils/mime";
import { encodeHex } from "./hash.ts";

export const IMMUTABLE = "public, max-age=31536000, immutable";

interface StaticEntry {
  path: string;
  etag?: string;
  stamp?: string;
}

export class StaticFiles {
  #files = new Map<string, StaticEntry>();

  private constructor(readonly dir: string) {}

  static async load(dir: string): Promise<StaticFiles> {
    const files = new StaticFiles(dir);
    await files.#scan(dir, "");
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
      else if (entry.isFile) this.#files.set(urlPath, { path });
    }
  }

  has(pathname: string): boolean {
    return this.#files.has(decodePath(pathname));
  }

  async serve(
    req: Request,
    url: URL,
    buildId: string,
    dev: boolean,
  ): Promise<Response> {
    const entry = this.#files.get(decodePath(url.pathname));
    if (!entry) return new Response("Not Found", { status: 404 });
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(entry.path);
    } catch {
      return new Response("Not Found", { status: 404 });
    }
    const stamp = `${info.size}:${info.mtime?.getTime() ?? ""}`;
    if (!entry.etag || entry.stamp !== stamp || info.mtime === null) {
      const digest = await crypto.subtle.digest(
        "SHA-1",
        await Deno.readFile(entry.path),
      );
      entry.etag = `"${encodeHex(digest).slice(0, 27)}"`;
      entry.stamp = stamp;
    }
    const headers = new Headers({
      "Content-Type": getMimeType(entry.path) ?? "application/octet-stream",
      ETag: entry.etag,
      Vary: "Accept-Encoding",
    });
    if (!dev && buildId && url.searchParams.get("__frsh_c") === buildId) {
      headers.set("Cache-Control", IMMUTABLE);
    }
    if (matchesEtag(req.headers.get("If-None-Match"), entry.etag)) {
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
