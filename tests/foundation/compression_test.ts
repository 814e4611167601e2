// Answers travel compressed when the client asks, and come out the same; what
// must not be compressed (events, empty answers, HEAD, small ones) is not.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { compressAnswers, pickEncoding } from "@/lib/web/compression.ts";

const FORMAT = { br: "brotli", gzip: "gzip" } as const;

async function decoded(res: Response): Promise<string> {
  const encoding = res.headers.get("content-encoding") as
    | keyof typeof FORMAT
    | null;
  if (!encoding) return await res.text();
  assert.ok(encoding in FORMAT, `unexpected encoding ${encoding}`);
  const plain = res.body!.pipeThrough(
    new DecompressionStream(FORMAT[encoding] as CompressionFormat),
  );
  return await new Response(plain).text();
}

/** The page with its one per-answer secret (the masked CSRF token) blanked out. */
function withoutCsrf(html: string): string {
  const tokens = [...html.matchAll(/name="_csrf" value="([\w-]+)"/g)].map((
    m,
  ) => m[1]);
  return tokens.reduce((page, token) => page.replaceAll(token, "CSRF"), html);
}

async function catalogOf(app: TestApp, size: number): Promise<void> {
  for (let i = 0; i < size; i++) {
    const res = await app.api("PUT", `/api/admin/catalog/2026.12.${i}`, {
      openclawVersion: `1.9.${i}`,
    });
    assert.equal(res.status, 200, await res.text());
  }
}

Deno.test("an admin page comes back compressed when asked, and decompresses to the same page", async (t) => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true });
  await catalogOf(app, 12);
  const page = (acceptEncoding?: string) =>
    app.request("/admin/catalog", {
      headers: {
        cookie: admin.cookie,
        ...(acceptEncoding ? { "accept-encoding": acceptEncoding } : {}),
      },
    });
  const plain = await page();
  assert.equal(plain.headers.get("content-encoding"), null);
  assert.match(plain.headers.get("vary") ?? "", /accept-encoding/i);
  const plainHtml = await plain.text();
  assert.ok(plainHtml.length > 4096, "the page is big enough to compress");

  for (
    const [accept, expected] of [
      ["gzip", "gzip"],
      ["gzip, deflate, br", "br"],
      ["br;q=0.5, gzip", "gzip"],
      ["*", "br"],
    ] as const
  ) {
    await t.step(`Accept-Encoding: ${accept} → ${expected}`, async () => {
      const res = await page(accept);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-encoding"), expected);
      assert.match(res.headers.get("vary") ?? "", /accept-encoding/i);
      assert.equal(res.headers.get("content-length"), null);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.ok(res.headers.get("x-request-id"), "app headers survive");
      assert.ok(res.headers.get("content-security-policy"));
      const html = await decoded(res);
      assert.equal(withoutCsrf(html), withoutCsrf(plainHtml));
    });
  }

  await t.step(
    "identity;q=1, gzip;q=0 or an unknown coding: plain",
    async () => {
      for (const accept of ["gzip;q=0, identity", "compress, zstd"]) {
        const res = await page(accept);
        assert.equal(res.headers.get("content-encoding"), null, accept);
        await res.body?.cancel();
      }
    },
  );

  await t.step("HEAD is never encoded", async () => {
    const res = await app.request("/admin/catalog", {
      method: "HEAD",
      headers: { cookie: admin.cookie, "accept-encoding": "gzip, br" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-encoding"), null);
    assert.equal(await res.text(), "");
  });
  await app.close();
});

Deno.test("JSON answers: a long one is compressed, a short one is not", async () => {
  const app = await createTestApp();
  await catalogOf(app, 12);
  const asAdmin = (path: string) =>
    app.request(path, {
      headers: {
        authorization: `Bearer ${app.adminToken}`,
        "accept-encoding": "gzip",
      },
    });
  const plain = await app.api("GET", "/api/admin/audit");
  const plainJson = await plain.json();
  const long = await asAdmin("/api/admin/audit");
  assert.equal(long.status, 200);
  assert.equal(long.headers.get("content-encoding"), "gzip");
  assert.match(long.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(JSON.parse(await decoded(long)), plainJson);

  const short = await asAdmin("/api/admin/scheduled-actions/nope");
  assert.equal(short.status, 404);
  assert.equal(short.headers.get("content-encoding"), null);
  const body = await short.text();
  assert.ok(body.length < 1024);
  assert.equal(short.headers.get("content-length"), String(body.length));
  assert.ok(JSON.parse(body).error);
  await app.close();
});

Deno.test("server-sent events, 204, 304 and encoded answers pass through untouched", async (t) => {
  const big = "x".repeat(4096);
  const app = new Hono();
  app.use(compressAnswers());
  app.get("/events", () =>
    new Response(`data: ${big}\n\n`, {
      headers: { "content-type": "text/event-stream" },
    }));
  app.get("/none", () => new Response(null, { status: 204 }));
  app.get("/same", () =>
    new Response(null, {
      status: 304,
      headers: { etag: '"abc"', "content-type": "text/css" },
    }));
  app.get("/encoded", () =>
    new Response(big, {
      headers: { "content-type": "text/plain", "content-encoding": "gzip" },
    }));
  app.get("/no-transform", () =>
    new Response(big, {
      headers: {
        "content-type": "text/plain",
        "cache-control": "no-transform",
      },
    }));
  app.get("/streamed", () => {
    let sent = 0;
    const chunk = new TextEncoder().encode("<p>streamed</p>".repeat(50));
    return new Response(
      new ReadableStream({
        pull(controller) {
          if (sent++ < 10) controller.enqueue(chunk);
          else controller.close();
        },
      }),
      { headers: { "content-type": "text/html" } },
    );
  });
  const get = (path: string) =>
    app.request(path, { headers: { "accept-encoding": "gzip, br" } });

  for (const path of ["/events", "/none", "/same", "/no-transform"]) {
    await t.step(path, async () => {
      const res = await get(path);
      assert.equal(res.headers.get("content-encoding"), null);
      await res.body?.cancel();
    });
  }
  await t.step("an answer already encoded keeps its encoding", async () => {
    const res = await get("/encoded");
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.equal(await res.text(), big);
  });
  await t.step(
    "a streamed page of unknown length is compressed whole",
    async () => {
      const res = await get("/streamed");
      assert.equal(res.headers.get("content-encoding"), "br");
      assert.equal(await decoded(res), "<p>streamed</p>".repeat(500));
    },
  );
});

Deno.test("pickEncoding follows the client's weights, brotli on a tie", () => {
  assert.equal(pickEncoding(null), null);
  assert.equal(pickEncoding(""), null);
  assert.equal(pickEncoding("gzip"), "gzip");
  assert.equal(pickEncoding("br"), "br");
  assert.equal(pickEncoding("gzip, br"), "br");
  assert.equal(pickEncoding("br;q=0.1, gzip;q=0.9"), "gzip");
  assert.equal(pickEncoding("*;q=0"), null);
  assert.equal(pickEncoding("GZIP"), "gzip");
});
