// fresh.gen.ts generation and `dev.ts manifest --check`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  generateManifest,
  manifestIsCurrent,
  writeManifest,
} from "@/lib/fresh/manifest.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const DEV_MODULE = new URL("../../lib/fresh/dev.ts", import.meta.url).href;
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

async function tempApp(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "fresh-manifest-test-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

const PAGE = "export default function Page() {\n  return null;\n}\n";

Deno.test("the fixtures' manifests are current", async () => {
  for (const name of ["basic", "islands"]) {
    assert.ok(
      await manifestIsCurrent(join(FIXTURES, name)),
      `${name}/fresh.gen.ts is stale`,
    );
  }
});

Deno.test("the manifest has Fresh 1.x's shape, a stable order, and passes deno fmt --check", async () => {
  const root = await tempApp({
    "routes/index.tsx": PAGE,
    "routes/b/[id].tsx": PAGE,
    "routes/a.tsx": PAGE,
    "routes/a_test.ts": "",
    "routes/.hidden.tsx": PAGE,
    "routes/notes.md": "",
    "islands/Zed.tsx": PAGE,
    "islands/Alpha.tsx": PAGE,
  });
  try {
    const text = await generateManifest(root);
    assert.equal(await generateManifest(root), text, "deterministic");
    const imports = [...text.matchAll(/import \* as (\$\d+) from "([^"]+)";/g)]
      .map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(imports, [
      "$0 ./routes/a.tsx",
      "$1 ./routes/b/[id].tsx",
      "$2 ./routes/index.tsx",
      "$3 ./islands/Alpha.tsx",
      "$4 ./islands/Zed.tsx",
    ]);
    assert.match(text, /routes: \{\n {4}"\.\/routes\/a\.tsx": \$0,/);
    assert.match(text, /islands: \{\n {4}"\.\/islands\/Alpha\.tsx": \$3,/);
    assert.match(
      text,
      /baseUrl: import\.meta\.url,\n\} satisfies Manifest;\n\nexport default manifest;\n$/,
    );
    await writeManifest(root);
    const fmt = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--check", join(root, "fresh.gen.ts")],
      cwd: root,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(fmt.success, new TextDecoder().decode(fmt.stderr));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("routes/ without islands/ gives an empty islands map", async () => {
  const root = await tempApp({ "routes/index.tsx": PAGE });
  try {
    assert.match(await generateManifest(root), /islands: \{\},/);
    await Deno.mkdir(join(root, "islands"));
    assert.match(await generateManifest(root), /islands: \{\},/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("dev.ts manifest --check fails on a stale manifest and passes once written", async () => {
  const root = await tempApp({
    "routes/index.tsx": PAGE,
    "dev.ts": `import dev from ${JSON.stringify(DEV_MODULE)};\n` +
      `await dev(import.meta.url, "./main.ts");\n`,
  });
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--config=${CONFIG}`, join(root, "dev.ts"), ...args],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    const missing = await run("manifest", "--check");
    assert.equal(missing.code, 1);
    assert.match(
      new TextDecoder().decode(missing.stderr),
      /fresh\.gen\.ts is stale.*deno task manifest/s,
    );

    assert.equal((await run("manifest")).code, 0);
    assert.equal((await run("manifest", "--check")).code, 0);

    await Deno.writeTextFile(join(root, "routes", "new.tsx"), PAGE);
    assert.equal(
      (await run("manifest", "--check")).code,
      1,
      "a new route makes it stale",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
