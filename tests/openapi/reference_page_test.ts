/**
 * `/admin/api` is served whole by this app: the page, Scalar's bundle from
 * the installed package, and a policy that lets the bundle's styles apply
 * while scripts stay this origin's only. The document is public.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { SCALAR_SCRIPT_URL } from "@/lib/openapi/reference_files.ts";

Deno.test("the API reference page, its script and the public document", async (t) => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({ admin: true });
    const asAdmin = { headers: { cookie: admin.cookie } };

    await t.step(
      "the page loads the bundle and its mount script from here",
      async () => {
        const res = await app.request("/admin/api", asAdmin);
        assert.equal(res.status, 200);
        const html = await res.text();
        assert.match(html, new RegExp(`<script src="${SCALAR_SCRIPT_URL}"`));
        // Named by its content hash, as every static file is.
        assert.match(
          html,
          /<script src="\/api-reference\.js\?__frsh_c=[0-9a-f]+"/,
        );
        assert.match(html, /href="\/api\/openapi\.json"/);
        const csp = res.headers.get("content-security-policy") ?? "";
        assert.match(csp, /style-src 'self' 'unsafe-inline'/);
        assert.match(csp, /script-src 'self'(;|$)/);
      },
    );

    await t.step("other pages keep styles to this origin's files", async () => {
      const res = await app.request("/admin", asAdmin);
      await res.body?.cancel();
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /style-src 'self'(;|$)/);
    });

    await t.step("the bundle comes from the installed package", async () => {
      const res = await app.request(SCALAR_SCRIPT_URL, asAdmin);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.match(res.headers.get("cache-control") ?? "", /immutable/);
      const text = await res.text();
      assert.ok(text.includes("createApiReference"), "not Scalar's bundle");
    });

    await t.step("any other file name is a 404", async () => {
      for (
        const name of [
          "scalar-0.0.0.js",
          "standalone.js",
          "..%2F..%2Fdeno.json",
        ]
      ) {
        const res = await app.request(`/admin/api/${name}`, asAdmin);
        await res.body?.cancel();
        assert.equal(res.status, 404, name);
      }
    });

    await t.step("the OpenAPI document needs no sign-in", async () => {
      const res = await app.request("/api/openapi.json");
      assert.equal(res.status, 200);
      const doc = await res.json();
      assert.equal(doc.openapi, "3.1.0");
      assert.equal(doc.servers[0].url, app.ctx.config.publicUrl);
      assert.ok(doc.paths["/api/admin/scheduled-actions"].post);
    });
  } finally {
    await app.close();
  }
});
