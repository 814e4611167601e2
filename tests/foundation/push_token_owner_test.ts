import assert from "node:assert/strict";
import {
  addPushToken,
  DEVICE_OF_ANOTHER_ACCOUNT,
  getUser,
  MAX_PUSH_TOKENS,
  putUser,
  removePushTokens,
} from "@/lib/kv/users.ts";
import { keys } from "@/lib/kv/keys.ts";
import { newId } from "@/lib/ids.ts";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";

function devices(app: TestApp, cookie: string) {
  return (method: "POST" | "DELETE", token: string) =>
    app.request("/api/push-tokens", {
      method,
      headers: { "content-type": "application/json", origin: ORIGIN, cookie },
      body: JSON.stringify({ token }),
    });
}

Deno.test("a device another account holds is not moved: 409, until that account signs out on it", async () => {
  const app = await createTestApp();
  try {
    const owner = await app.signIn({ email: "owner@example.test" });
    const caller = await app.signIn({ email: "caller@example.test" });
    const ownerDevices = devices(app, owner.cookie);
    const callerDevices = devices(app, caller.cookie);
    const phone = `ExponentPushToken[${newId().replaceAll("-", "")}]`;
    assert.equal((await ownerDevices("POST", phone)).status, 200);

    // Someone who learned the owner's token cannot take their pushes.
    const taken = await callerDevices("POST", phone);
    assert.equal(taken.status, 409);
    assert.deepEqual(await taken.json(), { error: DEVICE_OF_ANOTHER_ACCOUNT });
    assert.doesNotMatch(DEVICE_OF_ANOTHER_ACCOUNT, /owner@example/);
    assert.deepEqual((await getUser(app.kv, owner.user.id))!.pushTokens, [
      phone,
    ]);
    assert.deepEqual((await getUser(app.kv, caller.user.id))!.pushTokens, []);
    assert.equal(
      (await app.kv.get(keys.pushTokenOwner(phone))).value,
      owner.user.id,
    );
    // Registering again from the owner's own account is harmless.
    assert.equal((await ownerDevices("POST", phone)).status, 200);

    // The phone passed on honestly: the app's sign-out removes its token,
    // and the next account signed in on it registers it.
    const signOut = await ownerDevices("DELETE", phone);
    assert.equal(signOut.status, 200);
    assert.equal((await signOut.json()).removed, true);
    assert.equal((await app.kv.get(keys.pushTokenOwner(phone))).value, null);
    const handedOver = await callerDevices("POST", phone);
    assert.equal(handedOver.status, 200);
    assert.deepEqual((await getUser(app.kv, caller.user.id))!.pushTokens, [
      phone,
    ]);
    assert.deepEqual((await getUser(app.kv, owner.user.id))!.pushTokens, []);
    // And now it is the first owner who is refused.
    assert.equal((await ownerDevices("POST", phone)).status, 409);
  } finally {
    await app.close();
  }
});

Deno.test("a device whose holder no longer has it is free to register", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const a = await putUser(kv, newId(), { email: "a@example.test" });
    const b = await putUser(kv, newId(), { email: "b@example.test" });
    const phone = "ExponentPushToken[stale-index-phone]";
    await addPushToken(kv, a.id, phone);
    // An index entry left naming A while A's record no longer lists the
    // token (written before sign-out cleared it) does not hold the device.
    await kv.set(keys.user(a.id), {
      ...(await getUser(kv, a.id))!,
      pushTokens: [],
    });
    await addPushToken(kv, b.id, phone);
    assert.deepEqual((await getUser(kv, b.id))!.pushTokens, [phone]);
    assert.equal((await kv.get(keys.pushTokenOwner(phone))).value, b.id);
    // Removing a device B does not hold leaves B's index entry alone.
    await removePushTokens(kv, a.id, [phone]);
    assert.equal((await kv.get(keys.pushTokenOwner(phone))).value, b.id);
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
