/**
 * The admin API's bearer token: read from `Authorization: Bearer …` in any
 * case, trimmed, and refused with a 401 when it is missing, wrong, or no
 * token is configured.
 */
import assert from "node:assert/strict";
import {
  bearerToken,
  isBearerRequest,
  requireApiToken,
} from "@/lib/auth/api_token.ts";
import { UnauthorizedError } from "@/lib/errors.ts";

const withAuth = (value: string) =>
  new Request("http://app.test/api/admin/users", {
    headers: { authorization: value },
  });

Deno.test("the token is what follows Bearer, in any case, trimmed", () => {
  assert.equal(bearerToken("Bearer abc123"), "abc123");
  assert.equal(bearerToken("bearer   abc123  "), "abc123");
  assert.equal(bearerToken("Basic abc123"), "");
  assert.equal(bearerToken("Bearer"), "");
  assert.ok(isBearerRequest(withAuth("BEARER x")));
  assert.ok(!isBearerRequest(withAuth("Basic x")));
  assert.ok(!isBearerRequest(new Request("http://app.test/")));
});

Deno.test("only the configured token passes; anything else is a 401", async () => {
  await requireApiToken("Bearer s3cret", "s3cret");
  for (
    const [header, expected] of [
      ["Bearer wrong", "s3cret"],
      ["Bearer ", "s3cret"],
      ["Basic s3cret", "s3cret"],
      ["Bearer s3cret", null],
    ] as const
  ) {
    await assert.rejects(
      requireApiToken(header, expected),
      (err) => err instanceof UnauthorizedError && err.status === 401,
      `${header} against ${expected}`,
    );
  }
});
