/**
 * Each notice on the action page says whom it goes to: a push waiting for an
 * owner with no device says so in words, and one for an owner with a phone
 * counts the devices.
 */
import assert from "node:assert/strict";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { getActionView } from "@/lib/views/action_view.ts";
import { addPushToken, putUser } from "@/lib/kv/users.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { withKv } from "../helpers/kv.ts";
import {
  clock,
  deps,
  HOUR,
  input,
  rid,
  seedCatalog,
} from "../helpers/scheduling.ts";

Deno.test("action view: a pending push names its recipients, in words when there is no device", async () => {
  await withKv(async (kv) => {
    const c = clock();
    await seedCatalog(kv);
    const [bare, phoned] = await Promise.all([
      putUser(kv, rid("u"), { email: "bare@example.com" }),
      putUser(kv, rid("u"), { email: "phoned@example.com" }),
    ]);
    await addPushToken(kv, phoned.id, "ExponentPushToken[phoned]");
    const ids = [rid("inst"), rid("inst")];
    await putInstance(kv, ids[0], {
      name: "Bare bot",
      ownerId: bare.id,
      imageTag: "v1",
      pinnedImageTag: null,
    });
    await putInstance(kv, ids[1], {
      name: "Phoned bot",
      ownerId: phoned.id,
      imageTag: "v1",
      pinnedImageTag: null,
    });
    const action = await scheduleAction(
      deps(kv, c.now),
      input(ids, c.now(), {
        scheduledAt: new Date(c.now() + 48 * HOUR).toISOString(),
        noticeLeadHours: 24,
        noticeChannels: ["mobile_push"],
      }),
      { id: "admin-1" },
    );
    const view = await getActionView(kv, action.id, { pushViaOutbox: true });
    const said = Object.fromEntries(
      view.targets.map((t) => [
        t.instanceName,
        t.notices.map((n) => [n.status, n.recipient]),
      ]),
    );
    assert.deepEqual(said, {
      "Bare bot": [["pending", "no registered device"]],
      "Phoned bot": [["pending", "1 device"]],
    });
  });
});
