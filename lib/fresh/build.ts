// Bundles the islands with Deno's bundler: one entry for the browser runtime
// (client.ts) and one per island file, code-split so preact and signals ship once.
// Outputs live under a content-hash build id and are written to `_fresh/` with a
// snapshot.json; a handler reuses that snapshot unless it is missing or stale.
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "./hash.ts";

export interface IslandSource {
  /** The manifest key, e.g. `./islands/Counter.tsx`. */
  key: string;
  /** The island file's absolute file URL. */
  url: string;
}

export interface ClientBundle {
  buildId: string;
  /** Output files by path relative to the bundle root, e.g. `main.js`, `chunk-X.js`. */
  files: Map<string, Uint8Array>;
  /** The browser runtime's entry file. */
  main: string;
  /** Island manifest key → its entry file. */
  islands: Record<string, string>;
}

interface Snapshot {
  version: 1;
  buildId: string;
  builtAt: number;
  main: string;
  islands: Record<string, string>;
  sources: Record<string, string>;
  files: string[];
}

const SNAPSHOT = "snapshot.json";
const CLIENT_URL = new URL("./client.ts", import.meta.url).href;

export function bundleUrl(bundle: ClientBundle, file: string): string {
  return `/_frsh/js/${bundle.buildId}/${file}`;
}

function entryName(key: string, taken: Set<string>): string {
  const base = "island-" +
    key.replace(/^\.\/islands\//, "").replace(/\.[jt]sx?$/, "").replace(
      /[^A-Za-z0-9_-]/g,
      "_",
    );
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/** Bundles the islands; throws with the bundler's messages when it fails. */
export async function buildClient(
  islands: IslandSource[],
): Promise<ClientBundle> {
  const work = await Deno.makeTempDir({ prefix: "fresh-build-" });
  try {
    const taken = new Set<string>(["main"]);
    const entries: Record<string, string> = {};
    await Deno.writeTextFile(
      join(work, "main.ts"),
      `import ${JSON.stringify(CLIENT_URL)};\n`,
    );
    for (const island of islands) {
      const name = entryName(island.key, taken);
      entries[island.key] = `${name}.js`;
      await Deno.writeTextFile(
        join(work, `${name}.ts`),
        `import * as island from ${
          JSON.stringify(island.url)
        };\nexport default island;\n`,
      );
    }
    const entrypoints = [...taken].map((name) => join(work, `${name}.ts`));
    const outDir = join(work, "out");
    const files = await bundle(entrypoints, outDir);
    const parts: string[] = [];
    for (const path of [...files.keys()].sort()) {
      parts.push(`${path}\0${await sha256Hex(files.get(path)!)}`);
    }
    const digest = await sha256Hex(parts.join("\n"));
    return {
      buildId: digest.slice(0, 16),
      files,
      main: "main.js",
      islands: entries,
    };
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

async function bundle(
  entrypoints: string[],
  outDir: string,
): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  if (typeof Deno.bundle === "function") {
    const result = await Deno.bundle({
      entrypoints,
      outputDir: outDir,
      platform: "browser",
      format: "esm",
      codeSplitting: true,
      minify: true,
      write: false,
    });
    if (!result.success || !result.outputFiles) {
      throw new Error(
        `Bundling islands failed:\n${formatMessages(result.errors)}`,
      );
    }
    for (const file of result.outputFiles) {
      const contents = file.contents ?? new TextEncoder().encode(file.text());
      files.set(relative(outDir, file.path).replaceAll("\\", "/"), contents);
    }
    return files;
  }
  // Without --unstable-bundle the CLI does the same job.
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform=browser",
      "--code-splitting",
      "--minify",
      `--outdir=${outDir}`,
      ...entrypoints,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `Bundling islands failed:\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
  for (const path of await listFiles(outDir)) {
    files.set(
      relative(outDir, path).replaceAll("\\", "/"),
      await Deno.readFile(path),
    );
  }
  return files;
}

function formatMessages(messages: Deno.bundle.Message[]): string {
  return messages.map((m) =>
    m.location
      ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}`
      : m.text
  ).join("\n");
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) out.push(...await listFiles(path));
      else if (entry.isFile) out.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

/** Writes the bundle to `buildDir` (js/ plus snapshot.json, written last). */
export async function writeBundle(
  buildDir: string,
  bundle: ClientBundle,
  islands: IslandSource[],
): Promise<void> {
  const jsDir = join(buildDir, "js");
  await Deno.remove(jsDir, { recursive: true }).catch(() => {});
  for (const [path, contents] of bundle.files) {
    const target = join(jsDir, path);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeFile(target, contents);
  }
  const snapshot: Snapshot = {
    version: 1,
    buildId: bundle.buildId,
    builtAt: Date.now(),
    main: bundle.main,
    islands: bundle.islands,
    sources: Object.fromEntries(
      islands.map((island) => [island.key, island.url]),
    ),
    files: [...bundle.files.keys()].sort(),
  };
  const temp = join(buildDir, `${SNAPSHOT}.${crypto.randomUUID()}.tmp`);
  await Deno.writeTextFile(temp, JSON.stringify(snapshot, null, 2) + "\n");
  await Deno.rename(temp, join(buildDir, SNAPSHOT));
}

/** Reads the snapshot in `buildDir` if it was built from these islands and nothing newer. */
export async function readBundle(
  buildDir: string,
  islands: IslandSource[],
  inputs: string[],
): Promise<ClientBundle | null> {
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(await Deno.readTextFile(join(buildDir, SNAPSHOT)));
  } catch {
    return null;
  }
  if (snapshot.version !== 1) return null;
  const expected = Object.fromEntries(
    islands.map((island) => [island.key, island.url]),
  );
  if (
    JSON.stringify(sortKeys(expected)) !==
      JSON.stringify(sortKeys(snapshot.sources))
  ) {
    return null;
  }
  if (await newestMtime(inputs) > snapshot.builtAt) return null;
  const files = new Map<string, Uint8Array>();
  try {
    for (const path of snapshot.files) {
      files.set(path, await Deno.readFile(join(buildDir, "js", path)));
    }
  } catch {
    return null;
  }
  return {
    buildId: snapshot.buildId,
    files,
    main: snapshot.main,
    islands: snapshot.islands,
  };
}

function sortKeys(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      continue;
    }
    if (info.isDirectory) {
      for (const file of await listFiles(path)) {
        const time = (await Deno.stat(file)).mtime?.getTime() ?? 0;
        if (time > newest) newest = time;
      }
    } else {
      newest = Math.max(newest, info.mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

/** Files and directories whose change makes a built bundle stale. */
export function bundleInputs(root: string, islands: IslandSource[]): string[] {
  return [
    ...islands.map((island) => fileURLToPath(island.url)),
    join(root, "islands"),
    join(root, "components"),
    join(root, "lib"),
    join(root, "deno.json"),
    dirname(fileURLToPath(import.meta.url)),
  ];
}

/**
 * The bundle for these islands: the snapshot in `buildDir` when it is current,
 * otherwise a fresh build (written back to `buildDir` when that is writable).
 */
export async function loadOrBuild(
  root: string,
  buildDir: string,
  islands: IslandSource[],
): Promise<ClientBundle> {
  const current = await readBundle(
    buildDir,
    islands,
    bundleInputs(root, islands),
  );
  if (current) return current;
  let bundle: ClientBundle;
  try {
    bundle = await buildClient(islands);
  } catch (error) {
    // Where nothing can bundle (a deploy without the bundler), a prebuilt snapshot
    // for the same islands beats failing to start.
    const prebuilt = await readBundle(buildDir, islands, []);
    if (!prebuilt) throw error;
    console.warn(
      "Island bundling failed; serving the prebuilt bundle in",
      buildDir,
      error,
    );
    return prebuilt;
  }
  try {
    await Deno.mkdir(buildDir, { recursive: true });
    await writeBundle(buildDir, bundle, islands);
  } catch (error) {
    console.warn(`Could not write the island bundle to ${buildDir}:`, error);
  }
  return bundle;
}

export function islandSources(
  islandKeys: string[],
  baseUrl: string,
): IslandSource[] {
  return islandKeys.map((key) => ({ key, url: new URL(key, baseUrl).href }));
}
