import assert from "node:assert/strict";
import {
  byPrecedence,
  compileSegments,
  parseRouteKey,
  routeMatcher,
} from "@/lib/fresh/router.ts";

const matcherFor = (key: string) => routeMatcher(parseRouteKey(key, {}));

Deno.test("route keys become patterns", () => {
  assert.equal(matcherFor("./routes/index.tsx").pattern, "/");
  assert.equal(matcherFor("./routes/blog/index.tsx").pattern, "/blog");
  assert.equal(matcherFor("./routes/blog/[slug].tsx").pattern, "/blog/:slug");
  assert.equal(
    matcherFor("./routes/docs/[...path].tsx").pattern,
    "/docs/:path*",
  );
  assert.equal(
    matcherFor("./routes/(marketing)/pricing.tsx").pattern,
    "/pricing",
  );
});

Deno.test("params are decoded; catch-all takes zero or more segments", () => {
  assert.deepEqual(
    matcherFor("./routes/blog/[slug].tsx").match("/blog/hello%20world"),
    {
      slug: "hello world",
    },
  );
  assert.equal(matcherFor("./routes/blog/[slug].tsx").match("/blog/a/b"), null);
  const rest = matcherFor("./routes/docs/[...path].tsx");
  assert.deepEqual(rest.match("/docs/a/b"), { path: "a/b" });
  assert.deepEqual(rest.match("/docs"), { path: "" });
  assert.equal(rest.match("/documents"), null);
  assert.deepEqual(matcherFor("./routes/[...all].tsx").match("/"), { all: "" });
});

Deno.test("precedence: static before [param] before [...rest], index before catch-all", () => {
  const keys = [
    "./routes/[...all].tsx",
    "./routes/docs/[...path].tsx",
    "./routes/docs/[page].tsx",
    "./routes/docs/intro.tsx",
    "./routes/index.tsx",
    "./routes/[slug].tsx",
    "./routes/about.tsx",
  ];
  const ordered = keys.map(matcherFor).sort(byPrecedence).map((m) => m.pattern);
  const first = (path: string) =>
    keys.map(matcherFor).sort(byPrecedence).find((m) => m.match(path))?.pattern;
  assert.equal(first("/"), "/");
  assert.equal(first("/about"), "/about");
  assert.equal(first("/other"), "/:slug");
  assert.equal(first("/docs/intro"), "/docs/intro");
  assert.equal(first("/docs/x"), "/docs/:page");
  assert.equal(first("/docs/x/y"), "/docs/:path*");
  assert.equal(first("/a/b/c"), "/:all*");
  assert.ok(ordered.indexOf("/about") < ordered.indexOf("/:slug"));
});

Deno.test("middleware matchers cover their directory and everything below", () => {
  const admin = compileSegments(["admin"], true);
  assert.ok(admin.match("/admin"));
  assert.ok(admin.match("/admin/users/1"));
  assert.equal(admin.match("/administrator"), null);
  assert.ok(compileSegments([], true).match("/anything/at/all"));
});
