// A static file's URL carries its content hash: the same content keeps its URL
// across restarts, new content gets a new one, and only the URL naming the
// current content is cached for good.
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { createHandler } from "$fresh/server.ts";
import { sha256Hex } from "$fresh/hash.ts";
import { compressAnswers } from "@/lib/web/compression.ts";
import manifest from "./fixtures/basic/fresh.gen.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

async function fixtureApp(staticDir: string, dev = false) {
  const handler = await createHandler(manifest, {
    buildId: "testbuild",
    staticDir,
    dev,
    setup: (app) => app.use(compressAnswers()),
  });
  return (path: string, headers: Record<string, string> = {}) =>
    handler(new Request(`http://localhost${path}`, { headers }));
}

type Get = Awaited<ReturnType<typeof fixtureApp>>;

async function stylesheetUrl(get: Get): Promise<string> {
  const page = await (await get("/")).text();
  const href = page.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1];
  assert.ok(href, "the page links its stylesheet");
  return href.replaceAll("&amp;", "&");
}

async function versionOf(content: string): Promise<string> {
  return (await sha256Hex(content)).slice(0, 16);
}

Deno.test("a static file's URL follows its content, and only that URL is immutable", async (t) => {
  const dir = await Deno.makeTempDir();
  await cp(new URL("./fixtures/basic/static", import.meta.url), dir, {
    recursive: true,
  });
  const css = `${dir}/css/site.css`;
  const original = await Deno.readTextFile(css);
  const get = await fixtureApp(dir);
  const first = await stylesheetUrl(get);

  await t.step(
    "the URL carries the content hash and is cached for good",
    async () => {
      assert.equal(
        first,
        `/css/site.css?__frsh_c=${await versionOf(original)}`,
      );
      const res = await get(first, { "accept-encoding": "gzip" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), IMMUTABLE);
      assert.equal(await res.text(), original, "too small to compress");
    },
  );

  const edited = original + "main {\n  color: blue;\n}\n".repeat(80);
  await Deno.writeTextFile(css, edited);

  await t.step(
    "new content: the old URL is no longer cached for good",
    async () => {
      const res = await get(first, { "accept-encoding": "gzip" });
      assert.equal(res.headers.get("cache-control"), "public, no-cache");
      assert.equal(res.headers.get("content-encoding"), "gzip");
      const text = await new Response(
        res.body!.pipeThrough(new DecompressionStream("gzip")),
      ).text();
      assert.equal(text, edited);
    },
  );

  const second = await stylesheetUrl(get);
  await t.step("…and pages link a new URL, cached for good", async () => {
    assert.notEqual(second, first);
    assert.equal(second, `/css/site.css?__frsh_c=${await versionOf(edited)}`);
    const res = await get(second, { "accept-encoding": "gzip" });
    assert.equal(res.headers.get("cache-control"), IMMUTABLE);
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.match(res.headers.get("etag") ?? "", /^W\/"/);
    await res.body?.cancel();
    const again = await get(second, {
      "accept-encoding": "gzip",
      "if-none-match": res.headers.get("etag")!,
    });
    assert.equal(
      again.status,
      304,
      "a weak tag from a compressed answer still revalidates",
    );
    assert.equal(again.headers.get("cache-control"), IMMUTABLE);
  });

  await t.step("a restart on the same files gives the same URL", async () => {
    const restarted = await fixtureApp(dir);
    assert.equal(await stylesheetUrl(restarted), second);
  });

  await t.step("in development nothing is cached for good", async () => {
    const dev = await fixtureApp(dir, true);
    const res = await dev(await stylesheetUrl(dev));
    assert.equal(res.headers.get("cache-control"), "public, no-cache");
    await res.body?.cancel();
  });
  await Deno.remove(dir, { recursive: true });
});
