/**
 * The API reference page's renderer, served from the installed
 * `@scalar/api-reference` package (no CDN): its standalone browser bundle,
 * which carries its own styles, under a URL that changes with its version.
 */
const SCALAR_VERSION = "1.76.0";

export const SCALAR_SCRIPT_URL = `/admin/api/scalar-${SCALAR_VERSION}.js`;

/** The bundle when `name` is its file name, null for any other name. */
export async function readScalarScript(
  name: string,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (`/admin/api/${name}` !== SCALAR_SCRIPT_URL) return null;
  const dist = new URL("./", import.meta.resolve("@scalar/api-reference"));
  return await Deno.readFile(new URL("browser/standalone.js", dist));
}
