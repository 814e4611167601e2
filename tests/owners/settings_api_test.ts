/**
 * `GET/PUT /api/me/settings` and the admin's
 * `GET/PUT /api/admin/users/:id/settings`: exactly four fields, each bad
 * value a 400 naming its field with nothing written, one's own settings
 * only, an admin's edit audited in the same write.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { keys } from "@/lib/kv/keys.ts";
import type { OwnerSettings, User } from "@/lib/types.ts";

const GOOD: OwnerSettings = {
  timeZone: "Asia/Kolkata",
  maintenanceWindow: { days: ["tue", "thu"], startHour: 2, lengthHours: 3 },
  channels: { email: false, mobile_push: true },
  quietHours: { start: "22:00", end: "07:00" },
};

function put(cookie: string, body: unknown, path = "/api/me/settings") {
  return {
    path,
    init: {
      method: "PUT",
      headers: { cookie, "content-type": "application/json", origin: ORIGIN },
      body: JSON.stringify(body),
    },
  };
}

Deno.test("API: an owner's own settings", async (t) => {
  const app = await createTestApp();
  try {
    const maya = await app.signIn({ name: "Maya" });
    const tom = await app.signIn({ name: "Tom", timeZone: "Europe/Berlin" });
    const send = async (cookie: string, body: unknown, path?: string) => {
      const p = put(cookie, body, path);
      const res = await app.request(p.path, p.init);
      return { status: res.status, body: await res.json() };
    };
    const read = async (cookie: string) => {
      const res = await app.request("/api/me/settings", {
        headers: { cookie },
      });
      return { status: res.status, body: await res.json() };
    };

    await t.step(
      "defaults: the stored zone, any time, every channel on",
      async () => {
        assert.deepEqual((await read(tom.cookie)).body, {
          timeZone: "Europe/Berlin",
          maintenanceWindow: null,
          channels: { email: true, mobile_push: true },
          quietHours: null,
        });
      },
    );

    await t.step(
      "saved and read back; the zone lands on the user record",
      async () => {
        const saved = await send(maya.cookie, GOOD);
        assert.equal(saved.status, 200);
        assert.deepEqual(saved.body, GOOD);
        assert.deepEqual((await read(maya.cookie)).body, GOOD);
        const user = (await app.kv.get<User>(keys.user(maya.user.id))).value!;
        assert.equal(user.timeZone, "Asia/Kolkata");
        // Tom's are untouched.
        assert.equal((await read(tom.cookie)).body.timeZone, "Europe/Berlin");
      },
    );

    const bad: [string, (b: OwnerSettings) => unknown, string][] = [
      [
        "an unknown zone",
        (b) => ({ ...b, timeZone: "Mars/Olympus_Mons" }),
        "timeZone",
      ],
      [
        "an unknown day",
        (b) => ({
          ...b,
          maintenanceWindow: {
            ...b.maintenanceWindow!,
            days: ["tue", "someday"],
          },
        }),
        "maintenanceWindow.days.1",
      ],
      [
        "no day",
        (b) => ({
          ...b,
          maintenanceWindow: { ...b.maintenanceWindow!, days: [] },
        }),
        "maintenanceWindow.days",
      ],
      [
        "hour 24",
        (b) => ({
          ...b,
          maintenanceWindow: { ...b.maintenanceWindow!, startHour: 24 },
        }),
        "maintenanceWindow.startHour",
      ],
      [
        "hour -1",
        (b) => ({
          ...b,
          maintenanceWindow: { ...b.maintenanceWindow!, startHour: -1 },
        }),
        "maintenanceWindow.startHour",
      ],
      [
        "length 0",
        (b) => ({
          ...b,
          maintenanceWindow: { ...b.maintenanceWindow!, lengthHours: 0 },
        }),
        "maintenanceWindow.lengthHours",
      ],
      [
        "length 9",
        (b) => ({
          ...b,
          maintenanceWindow: { ...b.maintenanceWindow!, lengthHours: 9 },
        }),
        "maintenanceWindow.lengthHours",
      ],
      [
        "quiet from 25:00",
        (b) => ({ ...b, quietHours: { start: "25:00", end: "07:00" } }),
        "quietHours.start",
      ],
      [
        "quiet until 7am",
        (b) => ({ ...b, quietHours: { start: "22:00", end: "7am" } }),
        "quietHours.end",
      ],
      [
        "a channel not true or false",
        (b) => ({ ...b, channels: { email: "no", mobile_push: true } }),
        "channels.email",
      ],
      [
        "a field left out",
        ({ quietHours: _, ...rest }) => rest,
        "quietHours",
      ],
      ["a field too many", (b) => ({ ...b, userId: tom.user.id }), "userId"],
    ];
    for (const [name, change, field] of bad) {
      await t.step(
        `400 for ${name}, naming ${field}, nothing written`,
        async () => {
          const before = await app.kv.get(keys.userSettings(maya.user.id));
          const res = await send(maya.cookie, change(GOOD));
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.ok(
            res.body.issues.some((i: { path: string }) => i.path === field),
            JSON.stringify(res.body.issues),
          );
          assert.match(
            res.body.error,
            new RegExp(field.replaceAll(".", "\\.")),
          );
          const after = await app.kv.get(keys.userSettings(maya.user.id));
          assert.equal(after.versionstamp, before.versionstamp);
        },
      );
    }

    await t.step("nobody writes another user's settings", async () => {
      // There is no user id to give on /api/me; the admin route is for admins.
      const res = await send(
        maya.cookie,
        { ...GOOD, channels: { email: false, mobile_push: false } },
        `/api/admin/users/${tom.user.id}/settings`,
      );
      assert.equal(res.status, 403);
      assert.equal((await read(tom.cookie)).body.channels.email, true);
      const anonymous = await app.request(
        "/api/me/settings",
        put("", GOOD).init,
      );
      assert.equal(anonymous.status, 401);
      // A page elsewhere cannot make the browser send it.
      const crossSite = await app.request("/api/me/settings", {
        ...put(tom.cookie, {
          ...GOOD,
          channels: { email: false, mobile_push: false },
        }).init,
        headers: {
          cookie: tom.cookie,
          "content-type": "application/json",
          origin: "https://evil.example",
        },
      });
      assert.equal(crossSite.status, 403);
      assert.equal((await read(tom.cookie)).body.channels.email, true);
    });
  } finally {
    await app.close();
  }
});

Deno.test("API: an admin edits a user's settings, audited", async () => {
  const app = await createTestApp();
  try {
    const owner = await app.signIn({ name: "Ravi" });
    const path = `/api/admin/users/${owner.user.id}/settings`;
    const res = await app.api("PUT", path, GOOD);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), GOOD);
    assert.deepEqual(await (await app.api("GET", path)).json(), GOOD);

    const audit = await (await app.api(
      "GET",
      `/api/admin/audit?subjectType=user&subjectId=${owner.user.id}`,
    )).json();
    const entry = audit.items.find((e: { change: string }) =>
      e.change === "user.settings"
    );
    assert.ok(entry, JSON.stringify(audit.items));
    assert.equal(entry.via, "api_token");
    assert.deepEqual(entry.details, {
      timeZone: ["none", "Asia/Kolkata"],
      maintenanceWindow: ["any time", "Tue, Thu 02:00 for 3 h"],
      channels: ["email, push", "push"],
      quietHours: ["none", "22:00–07:00"],
    });

    const bad = await app.api("PUT", path, {
      ...GOOD,
      timeZone: "Nowhere/Else",
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).issues[0].path, "timeZone");
    const missing = await app.api(
      "PUT",
      "/api/admin/users/nobody-here/settings",
      GOOD,
    );
    assert.equal(missing.status, 404);
  } finally {
    await app.close();
  }
});

Deno.test("deleting a user deletes their settings with them", async () => {
  const app = await createTestApp();
  try {
    const owner = await app.signIn();
    const path = `/api/admin/users/${owner.user.id}/settings`;
    assert.equal((await app.api("PUT", path, GOOD)).status, 200);
    assert.notEqual(
      (await app.kv.get(keys.userSettings(owner.user.id))).value,
      null,
    );
    assert.equal(
      (await app.api("DELETE", `/api/admin/users/${owner.user.id}`)).status,
      200,
    );
    assert.equal(
      (await app.kv.get(keys.userSettings(owner.user.id))).value,
      null,
    );
    assert.equal((await app.api("GET", path)).status, 404);
  } finally {
    await app.close();
  }
});

Deno.test("the admin's settings page saves a user's settings without JavaScript, audited under the admin", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({ admin: true, name: "Ada" });
    const owner = await app.signIn({ name: "Sami" });
    const path = `/admin/users/${owner.user.id}/settings`;
    const post = (fields: [string, string][]) =>
      app.request(path, {
        method: "POST",
        headers: { cookie: admin.cookie, origin: ORIGIN },
        body: new URLSearchParams([["_csrf", admin.csrfToken], ...fields]),
      });
    const refused = await post([["timeZone", "UTC"], ["window", "some"]]);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /pick at least one day/);
    assert.equal(
      (await app.kv.get(keys.userSettings(owner.user.id))).value,
      null,
    );

    const saved = await post([
      ["timeZone", "Asia/Kolkata"],
      ["window", "some"],
      ["days", "tue"],
      ["days", "thu"],
      ["startHour", "2"],
      ["lengthHours", "3"],
      ["mobile_push", "on"],
      ["quiet", "on"],
      ["quietStart", "22:00"],
      ["quietEnd", "07:00"],
    ]);
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location"), `${path}?saved`);
    assert.deepEqual(
      await (await app.api("GET", `/api/admin/users/${owner.user.id}/settings`))
        .json(),
      GOOD,
    );
    const audit = await (await app.api(
      "GET",
      `/api/admin/audit?change=user.settings&actor=${admin.user.id}`,
    )).json();
    assert.equal(audit.items.length, 1);
    assert.equal(audit.items[0].subject.id, owner.user.id);
    assert.equal(audit.items[0].via, "session");
  } finally {
    await app.close();
  }
});
