// `$fresh/dev.ts`: what the root dev.ts runs.
//   deno run -A dev.ts                    manifest, then main.ts (island bundle built on start)
//   deno run -A dev.ts manifest           write fresh.gen.ts
//   deno run -A dev.ts manifest --check   exit 1 if fresh.gen.ts is stale
//   deno run -A dev.ts build              write fresh.gen.ts and the island bundle (_fresh/)
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildClient, islandSources, writeBundle } from "./build.ts";
import {
  listIslands,
  manifestIsCurrent,
  manifestPath,
  writeManifest,
} from "./manifest.ts";
import { setDevMode } from "./build_info.ts";
import type { FreshConfig } from "./types.ts";

export async function dev(
  base: string,
  entrypoint: string,
  config: FreshConfig = {},
  args: string[] = Deno.args,
): Promise<void> {
  const root = fileURLToPath(new URL(".", base));
  const [command, ...flags] = args;
  if (command === "manifest") {
    if (!flags.includes("--check")) {
      const changed = await writeManifest(root);
      console.log(
        `${manifestPath(root)} ${changed ? "written" : "already up to date"}`,
      );
      return;
    }
    if (await manifestIsCurrent(root)) return;
    console.error(
      `${
        manifestPath(root)
      } is stale: it does not match routes/ and islands/.\n` +
        "Run `deno task manifest` and commit the result.",
    );
    Deno.exit(1);
  }
  await writeManifest(root);
  if (command === "build") {
    const buildDir = config.buildDir ?? config.build?.outDir ??
      join(root, "_fresh");
    const sources = islandSources(
      await listIslands(root),
      new URL("./fresh.gen.ts", base).href,
    );
    const bundle = await buildClient(sources);
    await Deno.mkdir(buildDir, { recursive: true });
    await writeBundle(buildDir, bundle, sources);
    console.log(
      `Built ${sources.length} island(s) into ${buildDir} (build ${bundle.buildId})`,
    );
    return;
  }
  if (command) {
    throw new Error(`Unknown dev.ts command ${command}: use manifest or build`);
  }
  setDevMode(true);
  await import(new URL(entrypoint, base).href);
}

export default dev;
