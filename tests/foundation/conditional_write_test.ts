/**
 * A change checked against what it read is read and built again when another
 * request wrote in between, and answers 409 naming the record once it has
 * lost every try, writing nothing of its own.
 */
import assert from "node:assert/strict";
import { ConflictError } from "@/lib/errors.ts";
import { keys } from "@/lib/kv/keys.ts";
import { deleteUser, putUser, updateUser } from "@/lib/kv/users.ts";
import { CONDITIONAL_WRITE_TRIES } from "@/lib/kv/conditional_write.ts";
import type { User } from "@/lib/types.ts";

async function withUser(fn: (kv: Deno.Kv) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await putUser(kv, "u_1", { email: "ada@example.com", name: "Ada" });
    await fn(kv);
  } finally {
    kv.close();
  }
}

/**
 * Another request renaming the user: issued while the change is being built,
 * it lands between the change's read and its commit.
 */
function racingRename(kv: Deno.Kv, read: User, name: string) {
  return kv.set(keys.user("u_1"), { ...read, name });
}

Deno.test("a change that loses one race is built again from the newer record", async () => {
  await withUser(async (kv) => {
    let builds = 0;
    let race: Promise<unknown> = Promise.resolve();
    const next = await updateUser(kv, "u_1", (u) => {
      builds++;
      // The first build loses: its read is stale once the rename lands.
      if (builds === 1) race = racingRename(kv, u, "Ada L.");
      return { ...u, timeZone: "Europe/Paris" };
    });
    await race;
    assert.equal(builds, 2);
    assert.equal(next.name, "Ada L.");
    const stored = (await kv.get<User>(keys.user("u_1"))).value!;
    assert.equal(stored.name, "Ada L.");
    assert.equal(stored.timeZone, "Europe/Paris");
  });
});

Deno.test("a change that loses every race answers 409 naming the record and writes nothing", async () => {
  await withUser(async (kv) => {
    let builds = 0;
    const race: Promise<unknown>[] = [];
    const err = await updateUser(kv, "u_1", (u) => {
      builds++;
      race.push(racingRename(kv, u, `rename ${builds}`));
      return { ...u, timeZone: "Europe/Paris" };
    }).then(() => null, (e) => e);
    await Promise.all(race);
    assert.ok(err instanceof ConflictError, String(err));
    assert.equal(err.status, 409);
    assert.equal(
      err.message,
      "user u_1 is being changed by another request; try again",
    );
    assert.equal(builds, CONDITIONAL_WRITE_TRIES);
    const stored = (await kv.get<User>(keys.user("u_1"))).value!;
    assert.equal(stored.timeZone, null);
  });
});

Deno.test("a change with nothing to write answers at once", async () => {
  await withUser(async (kv) => {
    assert.equal(await deleteUser(kv, "u_missing"), false);
    assert.equal(await deleteUser(kv, "u_1"), true);
    assert.equal((await kv.get(keys.user("u_1"))).value, null);
    assert.equal(await deleteUser(kv, "u_1"), false);
  });
});
