// The basic fixture app driven in process through createHandler.
import assert from "node:assert/strict";
import { createHandler } from "$fresh/server.ts";
import manifest from "./fixtures/basic/fresh.gen.ts";
import { sha256Hex } from "$fresh/hash.ts";

const handler = await createHandler(manifest, {
  buildId: "testbuild",
  setup(app) {
    app.use("*", async (c, next) => {
      await next();
      c.res.headers.set("X-Setup", "ran");
    });
  },
});

const info: Deno.ServeHandlerInfo = {
  remoteAddr: { transport: "tcp", hostname: "203.0.113.7", port: 4242 },
  completed: Promise.resolve(),
};

async function siteCssVersion(): Promise<string> {
  const css = await Deno.readFile(
    new URL("./fixtures/basic/static/css/site.css", import.meta.url),
  );
  return (await sha256Hex(css)).slice(0, 16);
}

function get(path: string, init?: RequestInit): Promise<Response> {
  return handler(new Request(`http://localhost${path}`, init), info);
}

async function html(path: string): Promise<string> {
  const response = await get(path);
  assert.equal(response.status, 200, `${path} answered ${response.status}`);
  return await response.text();
}

Deno.test("routes match with Fresh's precedence", async (t) => {
  const cases: [string, string][] = [
    ["/", "<h1>Home</h1>"],
    ["/about", "<h1>About</h1>"],
    ["/blog/new", "New post form"],
    ["/blog/hello", "Post hello"],
    ["/docs/intro", "Docs intro"],
    ["/docs/other", "Docs page other"],
    ["/docs/a/b", "Docs rest [a/b]"],
    ["/docs", "Docs rest []"],
    ["/pricing", "Pricing"],
  ];
  for (const [path, expected] of cases) {
    await t.step(path, async () => {
      assert.ok((await html(path)).includes(expected));
    });
  }
  await t.step("ctx.route and params reach the page", async () => {
    assert.ok(
      (await html("/blog/x%20y")).includes('data-route="/blog/:slug">Post x y'),
    );
  });
});

Deno.test("_app and nested _layout wrap the page; <Head> lands in <head>", async () => {
  const page = await html("/");
  assert.ok(page.startsWith('<!DOCTYPE html><html lang="en">'));
  assert.match(
    page,
    /<div class="root-layout"><main><h1>Home<\/h1><\/main><\/div>/,
  );
  const head = page.slice(page.indexOf("<head>"), page.indexOf("</head>"));
  assert.ok(
    head.includes("<title>Home page</title>"),
    "the page's title replaces _app's",
  );
  assert.ok(!head.includes("Basic fixture"));
  assert.ok(
    head.includes(`href="/css/site.css?__frsh_c=${await siteCssVersion()}"`),
    "asset() adds the file's content hash",
  );
  const admin = await html("/admin");
  assert.match(
    admin,
    /<div class="root-layout"><section class="admin-layout"><h1>Admin/,
  );
});

Deno.test("a page without islands ships no script at all", async () => {
  for (const path of ["/", "/about", "/blog/x"]) {
    assert.ok(!(await html(path)).includes("<script"), path);
  }
});

Deno.test("middleware: outer before inner, arrays in order, state shared", async () => {
  const response = await get("/admin", { headers: { "x-user": "ada" } });
  const body = await response.text();
  assert.ok(body.includes("Admin outer>inner-1>inner-2"));
  assert.ok(body.includes('data-user="ada"'), "_app sees ctx.state");
  assert.equal(
    response.headers.get("X-Trail"),
    "outer,inner-1,inner-2,inner-2-after",
  );
  assert.equal(
    response.headers.get("X-Setup"),
    "ran",
    "the setup hook's Hono middleware ran",
  );
  const outside = await get("/about");
  await outside.body?.cancel();
  assert.equal(
    outside.headers.get("X-Trail"),
    "outer",
    "admin middleware stays in /admin",
  );
});

Deno.test("middleware sees the destination of every request", async () => {
  const cases: [string, string][] = [
    ["/about", "route"],
    ["/hello.txt", "static"],
    ["/nowhere", "notFound"],
    ["/_frsh/js/nope/main.js", "internal"],
  ];
  for (const [path, destination] of cases) {
    const response = await get(path);
    await response.body?.cancel();
    assert.equal(response.headers.get("X-Destination"), destination, path);
  }
});

Deno.test("handlers: methods, HEAD falls back to GET, 405 with Allow", async (t) => {
  await t.step("GET and POST handlers", async () => {
    assert.deepEqual(await (await get("/api/items")).json(), {
      items: ["a", "b"],
      route: "/api/items",
    });
    const created = await get("/api/items", {
      method: "POST",
      body: '{"name":"x"}',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { created: "x" });
  });
  await t.step(
    "HEAD answers GET's status and headers without a body",
    async () => {
      const head = await get("/api/items", { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("Content-Type"), "application/json");
      assert.equal(await head.text(), "");
    },
  );
  await t.step("unsupported method: 405 and Allow", async () => {
    const put = await get("/api/items", { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("Allow"), "GET, HEAD, POST");
    await put.body?.cancel();
  });
  await t.step("a page without handler renders on GET only", async () => {
    const post = await get("/about", { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("Allow"), "GET, HEAD");
    await post.body?.cancel();
  });
  await t.step("a function handler takes every method", async () => {
    const response = await get("/info", { method: "DELETE" });
    assert.deepEqual(await response.json(), {
      method: "DELETE",
      remote: "203.0.113.7",
      route: "/info",
      destination: "route",
    });
  });
});

Deno.test("ctx.render passes data, status and headers", async () => {
  const response = await get("/data?name=Grace");
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("X-Rendered"), "yes");
  assert.equal(
    response.headers.get("Content-Type"),
    "text/html; charset=utf-8",
  );
  assert.ok(
    (await response.text()).includes('<p class="data">Hello Grace</p>'),
  );
});

Deno.test("async route components render, or answer with their Response", async () => {
  assert.ok(
    (await html("/async")).includes('<p class="async">Async at /async</p>'),
  );
  assert.ok((await html("/defined")).includes("Defined /defined"));
  const redirect = await get("/async?redirect");
  assert.equal(redirect.status, 303);
  assert.equal(redirect.headers.get("Location"), "/about");
});

Deno.test("404: unmatched paths and ctx.renderNotFound use _404 inside _app", async () => {
  const missing = await get("/no/such/page");
  assert.equal(missing.status, 404);
  const body = await missing.text();
  assert.ok(body.includes("No page at /no/such/page"));
  assert.ok(body.includes("<title>Basic fixture</title>"));
  const gone = await get("/missing");
  assert.equal(gone.status, 404);
  assert.ok((await gone.text()).includes("No page at /missing gone"));
});

Deno.test("errors: _500 gets the error; middleware can catch and map it", async () => {
  const originalError = console.error;
  console.error = () => {};
  try {
    const boom = await get("/boom");
    assert.equal(boom.status, 500);
    assert.ok((await boom.text()).includes("Failed: kaboom"));
    const mapped = await get("/mapped");
    assert.equal(mapped.status, 418);
    assert.deepEqual(await mapped.json(), { error: "teapot" });
  } finally {
    console.error = originalError;
  }
});

Deno.test("trailing slashes redirect, without becoming an open redirect", async () => {
  const about = await get("/about/?x=1");
  assert.equal(about.status, 307);
  assert.equal(about.headers.get("Location"), "/about?x=1");
  const sneaky = await get("//evil.example/");
  assert.equal(sneaky.headers.get("Location"), "/evil.example");
});

Deno.test("static files: ETag, 304 on If-None-Match, immutable with the content hash", async () => {
  const first = await get("/hello.txt");
  assert.equal(first.status, 200);
  assert.equal(await first.text(), "hello static\n");
  assert.equal(first.headers.get("Content-Type"), "text/plain; charset=utf-8");
  const etag = first.headers.get("ETag");
  assert.ok(etag);
  assert.equal(first.headers.get("Cache-Control"), "public, no-cache");
  const again = await get("/hello.txt", { headers: { "If-None-Match": etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  const versioned = await get(
    `/css/site.css?__frsh_c=${await siteCssVersion()}`,
  );
  await versioned.body?.cancel();
  assert.equal(
    versioned.headers.get("Cache-Control"),
    "public, max-age=31536000, immutable",
  );
  const stale = await get("/css/site.css?__frsh_c=testbuild");
  await stale.body?.cancel();
  assert.equal(
    stale.headers.get("Cache-Control"),
    "public, no-cache",
    "a version that is not the file's own is never cached for good",
  );
  const post = await get("/hello.txt", { method: "POST" });
  assert.equal(post.status, 404, "static files answer GET and HEAD only");
  await post.body?.cancel();
});
