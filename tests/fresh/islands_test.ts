// Island pages in process: markers, the JSON data block, the external boot module,
// the bundle's caching and its single shared copy of preact and signals.
import assert from "node:assert/strict";
import { createHandler } from "$fresh/server.ts";
import { buildClient, islandSources } from "@/lib/fresh/build.ts";
import manifest from "./fixtures/islands/fresh.gen.ts";

const buildDir = await Deno.makeTempDir({ prefix: "fresh-islands-test-" });
const handler = await createHandler(manifest, { buildDir });
const get = (path: string) => handler(new Request(`http://localhost${path}`));

Deno.test("an island page: markers, a JSON data block and one external module", async () => {
  const response = await get("/");
  const html = await response.text();
  assert.ok(html.includes('<!--frsh:island:0--><div class="counter">'));
  assert.ok(html.includes("<!--/frsh:island:2-->"));
  assert.ok(html.includes('<span class="count">3</span>'));
  assert.ok(html.includes('<p class="slot-child">Server-rendered child</p>'));
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 2);
  const [data, boot] = scripts;
  assert.match(data[1], /type="application\/json"/);
  assert.match(
    boot[1],
    /^ type="module" src="\/_frsh\/js\/[0-9a-f]{16}\/main\.js"$/,
  );
  assert.equal(boot[2], "", "no inline executable code");
  const state = JSON.parse(data[2]);
  assert.equal(state.islands.length, 3);
  assert.deepEqual(state.islands[0].p.shared, { $f: "s", id: 0, v: 5 });
  assert.deepEqual(
    state.islands[1].p.shared,
    { $f: "r", id: 0 },
    "same signal, same id",
  );
  assert.equal(state.islands[0].p.label, "</script><b>not markup</b>");
  assert.equal(
    state.islands[2].c,
    true,
    "children are server-rendered into a slot",
  );
});

Deno.test("a page of the same app without islands has no script", async () => {
  assert.ok(!(await (await get("/plain")).text()).includes("<script"));
});

Deno.test("bundle files are served immutable under their build id", async () => {
  const html = await (await get("/")).text();
  const src = html.match(/src="(\/_frsh\/js\/[^"]+)"/)![1];
  const main = await get(src);
  assert.equal(main.status, 200);
  assert.equal(
    main.headers.get("Content-Type"),
    "text/javascript; charset=utf-8",
  );
  assert.equal(
    main.headers.get("Cache-Control"),
    "public, max-age=31536000, immutable",
  );
  await main.body?.cancel();
  const stale = await get(
    src.replace(/js\/[0-9a-f]+\//, "js/0000000000000000/"),
  );
  assert.equal(stale.status, 404);
  await stale.body?.cancel();
});

Deno.test("the bundle was written to buildDir and is reused while current", async () => {
  const snapshot = JSON.parse(
    await Deno.readTextFile(`${buildDir}/snapshot.json`),
  );
  assert.deepEqual(
    Object.keys(snapshot.islands).sort(),
    Object.keys(manifest.islands).sort(),
  );
  const again = await createHandler(manifest, { buildDir });
  const html = await (await again(new Request("http://localhost/"))).text();
  assert.ok(html.includes(`/_frsh/js/${snapshot.buildId}/main.js`));
  const after = JSON.parse(
    await Deno.readTextFile(`${buildDir}/snapshot.json`),
  );
  assert.equal(after.builtAt, snapshot.builtAt, "not rebuilt");
});

Deno.test("preact and signals are bundled once, shared by every island", async () => {
  const bundle = await buildClient(
    islandSources(Object.keys(manifest.islands), manifest.baseUrl),
  );
  const texts = [...bundle.files.values()].map((bytes) =>
    new TextDecoder().decode(bytes)
  );
  // Distinctive strings of preact's DOM diff and of signals-core.
  const count = (needle: string) =>
    texts.filter((text) => text.includes(needle)).length;
  assert.equal(count("acit|ex(?:s|g|n|p|$)"), 1, "one copy of preact");
  assert.equal(count("Cycle detected"), 1, "one copy of @preact/signals-core");
  assert.ok(
    bundle.files.size >= 5,
    "main, three islands and at least one shared chunk",
  );
});

Deno.test({
  name: "cleanup",
  fn: () => Deno.remove(buildDir, { recursive: true }),
});
