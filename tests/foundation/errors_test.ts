import assert from "node:assert/strict";
import { z } from "zod";
import { validationError } from "@/lib/errors.ts";

Deno.test("validation errors name each field in words a person reads", () => {
  const schema = z.object({
    kind: z.discriminatedUnion("type", [
      z.object({ type: z.literal("a") }),
      z.object({ type: z.literal("b") }),
    ]),
    hours: z.number().max(168),
    subject: z.string().max(120),
    name: z.string().min(1),
    ids: z.array(z.string()).max(2),
    when: z.string(),
    color: z.enum(["red", "blue"]),
    custom: z.number().min(5, "pick five or more"),
  });
  const r = schema.safeParse({
    kind: { type: "c" },
    hours: 500,
    subject: "x".repeat(121),
    name: "",
    ids: ["1", "2", "3"],
    color: "green",
    custom: 1,
  });
  assert.ok(!r.success);
  const err = validationError(r.error);
  assert.equal(err.status, 400);
  const byPath = Object.fromEntries(
    err.issues!.map((i) => [i.path, i.message]),
  );
  assert.deepEqual(byPath, {
    "kind.type": 'must be one of "a", "b"',
    hours: "must be at most 168",
    subject: "must be at most 120 characters",
    name: "must not be empty",
    ids: "must be at most 2 items",
    when: "required",
    color: 'must be one of "red", "blue"',
    custom: "pick five or more",
  });
  assert.match(
    err.message,
    /^invalid request body: kind\.type: must be one of/,
  );
});
