import assert from "node:assert/strict";
import {
  addPushToken,
  getUser,
  MAX_PUSH_TOKENS,
  putUser,
} from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";

Deno.test("a device belongs to whoever registered it last", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const a = await putUser(kv, newId(), { email: "a@example.test" });
    const b = await putUser(kv, newId(), { email: "b@example.test" });
    const phone = "ExponentPushToken[shared-phone]";
    await addPushToken(kv, a.id, phone);
    await addPushToken(kv, a.id, "ExponentPushToken[a-tablet]");
    await addPushToken(kv, b.id, phone);
    assert.deepEqual((await getUser(kv, a.id))!.pushTokens, [
      "ExponentPushToken[a-tablet]",
    ]);
    assert.deepEqual((await getUser(kv, b.id))!.pushTokens, [phone]);
    // Registering again is harmless, and the phone can go back to A.
    await addPushToken(kv, b.id, phone);
    assert.deepEqual((await getUser(kv, b.id))!.pushTokens, [phone]);
    await addPushToken(kv, a.id, phone);
    assert.deepEqual((await getUser(kv, b.id))!.pushTokens, []);
    assert.deepEqual((await getUser(kv, a.id))!.pushTokens, [
      "ExponentPushToken[a-tablet]",
      phone,
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("a user keeps at most the newest devices", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const u = await putUser(kv, newId(), { email: "many@example.test" });
    for (let i = 0; i < MAX_PUSH_TOKENS + 3; i++) {
      await addPushToken(kv, u.id, `ExponentPushToken[d${i}]`);
    }
    const tokens = (await getUser(kv, u.id))!.pushTokens;
    assert.equal(tokens.length, MAX_PUSH_TOKENS);
    assert.equal(tokens[0], "ExponentPushToken[d3]");
  } finally {
    kv.close();
  }
});
