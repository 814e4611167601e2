// Process-wide build facts shared by the server, `asset()` and the browser runtime.
// Kept dependency-free so islands can import it through runtime.ts.

/** The query parameter `asset()` versions URLs with (Fresh 1.x's name). */
export const ASSET_VERSION_PARAM = "__frsh_c";

let buildId = "";
let devMode = false;

/** The id appended to `asset()` URLs; "" until a handler (or the browser boot) sets it. */
export function getBuildId(): string {
  return buildId;
}
export function setBuildId(id: string): void {
  buildId = id;
}

let assetVersions: Record<string, string> = {};

/**
 * A content hash per file of static/ (by URL path): `asset()` puts it in the
 * URL so that the URL changes exactly when the file does.
 */
export function getAssetVersions(): Readonly<Record<string, string>> {
  return assetVersions;
}
export function setAssetVersion(path: string, version: string): void {
  assetVersions = { ...assetVersions, [path]: version };
}
export function setAssetVersions(versions: Record<string, string>): void {
  assetVersions = { ...versions };
}

/** Set by dev.ts before it imports main.ts, so `start()` knows it runs in development. */
export function isDevMode(): boolean {
  return devMode;
}
export function setDevMode(on: boolean): void {
  devMode = on;
}
