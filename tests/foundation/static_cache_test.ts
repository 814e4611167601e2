// The app's pages name their stylesheet, icon and island scripts by content:
// those URLs are cached for good and arrive compressed; unversioned ones are
// revalidated.
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

Deno.test("the URLs a page links are versioned, cached for good and compressed", async (t) => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true });
  const page = await (await app.request("/admin/actions/new", {
    headers: { cookie: admin.cookie },
  })).text();
  const href = (rel: string) =>
    page.match(new RegExp(`<link rel="${rel}" href="([^"]+)"`))?.[1];
  const stylesheet = href("stylesheet");
  const icon = href("icon");
  const script = page.match(/<script type="module" src="([^"]+)"/)?.[1];

  await t.step("static files carry their content hash", () => {
    assert.match(stylesheet ?? "", /^\/styles\.css\?__frsh_c=[0-9a-f]{16}$/);
    assert.match(icon ?? "", /^\/favicon\.svg\?__frsh_c=[0-9a-f]{16}$/);
  });

  await t.step(
    "the icon (under 1 KiB, so sent as it is) is cached for good",
    async () => {
      const res = await app.request(icon!, {
        headers: { "accept-encoding": "gzip, br" },
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), IMMUTABLE);
    },
  );

  for (const url of [stylesheet!, script!]) {
    await t.step(url, async () => {
      const res = await app.request(url, {
        headers: { "accept-encoding": "gzip, br", cookie: admin.cookie },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), IMMUTABLE);
      assert.equal(res.headers.get("content-encoding"), "br");
      assert.match(res.headers.get("vary") ?? "", /accept-encoding/i);
      const plain = await new Response(
        res.body!.pipeThrough(
          new DecompressionStream("brotli" as CompressionFormat),
        ),
      ).text();
      const direct = await app.request(url);
      assert.equal(plain, await direct.text());
    });
  }

  await t.step("a compressed file's weak ETag revalidates", async () => {
    const res = await app.request(stylesheet!, {
      headers: { "accept-encoding": "gzip" },
    });
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    assert.match(etag ?? "", /^W\/"[0-9a-f]{16}"$/);
    const again = await app.request(stylesheet!, {
      headers: { "accept-encoding": "gzip", "if-none-match": etag! },
    });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get("content-encoding"), null);
    assert.equal(again.headers.get("cache-control"), IMMUTABLE);
  });

  await t.step("the unversioned URL is revalidated on each use", async () => {
    const res = await app.request("/styles.css");
    await res.body?.cancel();
    assert.equal(res.headers.get("cache-control"), "public, no-cache");
    assert.ok(res.headers.get("etag"));
  });
  await app.close();
});
