// Process-wide build facts shared by the server, `asset()` and the browser runtime.
// Kept dependency-free so islands can import it through runtime.ts.

let buildId = "";
let devMode = false;

/** The id appended to `asset()` URLs; "" until a handler (or the browser boot) sets it. */
export function getBuildId(): string {
  return buildId;
}
export function setBuildId(id: string): void {
  buildId = id;
}

/** Set by dev.ts before it imports main.ts, so `start()` knows it runs in development. */
export function isDevMode(): boolean {
  return devMode;
}
export function setDevMode(on: boolean): void {
  devMode = on;
}
