// Compressed pages never repeat the CSRF token as it is (BREACH): every answer
// carries it masked with a fresh pad, every mask is accepted, a tampered one is not.
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { maskCsrfToken, unmaskCsrfToken } from "@/lib/auth/csrf.ts";

Deno.test("each page carries its own mask of the session's token; all of them work", async (t) => {
  const app = await createTestApp();
  const admin = await app.signIn({ admin: true });
  const tokenOf = async () => {
    const res = await app.request("/admin/catalog", {
      headers: { cookie: admin.cookie, "accept-encoding": "gzip" },
    });
    const html = await new Response(
      res.body!.pipeThrough(new DecompressionStream("gzip")),
    ).text();
    const tokens = new Set(
      [...html.matchAll(/name="_csrf" value="([\w-]+)"/g)].map((m) => m[1]),
    );
    assert.equal(tokens.size, 1, "one mask per answer");
    assert.ok(
      !html.includes(admin.csrfToken),
      "the token itself is never printed",
    );
    return [...tokens][0];
  };
  const first = await tokenOf();
  const second = await tokenOf();
  const post = (csrf: string, imageTag: string) =>
    app.request("/admin/catalog", {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        origin: ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        _csrf: csrf,
        imageTag,
        openclawVersion: "1.9.0",
      }).toString(),
    });

  await t.step("two renders, two different token strings", () => {
    assert.notEqual(first, second);
  });
  await t.step("both are accepted", async () => {
    for (const [csrf, tag] of [[first, "2026.12.1"], [second, "2026.12.2"]]) {
      const res = await post(csrf, tag);
      await res.body?.cancel();
      assert.equal(res.status, 303, `${tag} was refused`);
    }
  });
  await t.step(
    "a tampered or foreign mask is refused, and nothing is written",
    async () => {
      const flip = (at: number) =>
        first.slice(0, at) + (first[at] === "A" ? "B" : "A") +
        first.slice(at + 1);
      // The last character's low bits carry nothing: setting one spells the same bytes another way.
      const B64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const respelled = first.slice(0, -1) +
        B64[B64.indexOf(first.at(-1)!) ^ 1];
      const other = await app.signIn({ admin: true });
      const cases = [
        flip(10),
        respelled,
        first.slice(0, 40),
        maskCsrfToken(other.csrfToken),
        "",
        "%%%",
      ];
      for (const csrf of cases) {
        const res = await post(csrf, "2026.12.9");
        assert.equal(res.status, 403, `"${csrf}" was accepted`);
        assert.match(await res.text(), /security token/);
      }
      const catalog = await app.api("GET", "/api/admin/audit");
      assert.ok(!(await catalog.text()).includes("2026.12.9"));
    },
  );
  await app.close();
});

Deno.test("masking: a fresh pad each time, unmasked back to the token", () => {
  const token = "abcDEF_-0123456789abcdefghijKLMN";
  const masks = new Set(Array.from({ length: 20 }, () => maskCsrfToken(token)));
  assert.equal(masks.size, 20);
  for (const mask of masks) assert.equal(unmaskCsrfToken(mask), token);
  assert.equal(unmaskCsrfToken("not base64!"), null);
  assert.equal(unmaskCsrfToken("abc"), null, "odd length");
  assert.equal(unmaskCsrfToken(""), null);
});
