/**
 * The schedule's dry run: who is reached and who is left out (and why), what
 * the owner will read, warnings — and that the email it shows is the email
 * the sweep sends. Also "skip those" and version changes to the tag an
 * instance already runs.
 */
import assert from "node:assert/strict";
import { previewSchedule } from "@/lib/preview/preview.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { listActions } from "@/lib/views/action_reads.ts";
import { putUser } from "@/lib/kv/users.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { sweep } from "@/lib/notices/sweep.ts";
import { createDispatchers } from "@/lib/channels/mod.ts";
import { OutboxEmailSender } from "@/lib/channels/outbox.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { testConfig } from "@/lib/config.ts";
import { AppError } from "@/lib/errors.ts";
import { withKv } from "../helpers/kv.ts";
import { createTestApp } from "../helpers/app.ts";
import {
  clock,
  deps,
  HOUR,
  input,
  rid,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";

const admin = { id: "admin-1" };
const PUBLIC_URL = "https://claw.example.com";

/** Two plain instances with real owners, and one of each kind that is left out. */
async function fleet(kv: Deno.Kv, now: () => number) {
  await seedCatalog(kv);
  const [ada, bo] = await Promise.all([
    putUser(kv, rid("u"), {
      email: "ada@example.com",
      name: "Ada Lovelace",
      timeZone: "America/New_York",
    }),
    putUser(kv, rid("u"), { email: "bo@example.com", name: "Bo Chen" }),
  ]);
  await kv.set(["users", ada.id], {
    ...ada,
    pushTokens: ["ExponentPushToken[ada]"],
  });
  const make = async (
    name: string,
    ownerId: string,
    extra: Partial<
      { imageTag: string; pinnedImageTag: string; status: "destroyed" }
    > = {},
  ) => {
    const id = rid("inst");
    await putInstance(kv, id, {
      name,
      ownerId,
      imageTag: extra.imageTag ?? "v1",
      pinnedImageTag: extra.pinnedImageTag ?? null,
      status: extra.status,
    });
    return id;
  };
  const plainA = await make("Ada's bot", ada.id);
  const plainB = await make("Bo's bot", bo.id);
  const destroyed = await make("Gone bot", bo.id, { status: "destroyed" });
  const pinned = await make("Pinned bot", bo.id, { pinnedImageTag: "v1" });
  const onTag = await make("Current bot", bo.id, { imageTag: "v2" });
  const held = await make("Busy bot", ada.id);
  const holder = await scheduleAction(
    deps(kv, now),
    input([held], now(), {
      actionType: "scheduled_restart",
      imageTag: undefined,
    }),
    admin,
  );
  return {
    ada,
    bo,
    ids: { plainA, plainB, destroyed, pinned, onTag, held },
    all: [plainA, plainB, destroyed, pinned, onTag, held],
    holderId: holder.id,
  };
}

Deno.test("preview: an instance held by a version change names that action by its OpenClaw version, as its own page does", async () => {
  await withKv(async (kv) => {
    const c = clock();
    await seedCatalog(kv);
    const owner = await putUser(kv, rid("u"), { email: "cy@example.com" });
    const held = rid("inst");
    await putInstance(kv, held, {
      name: "Cy's bot",
      ownerId: owner.id,
      imageTag: "v1",
      pinnedImageTag: null,
    });
    const holder = await scheduleAction(
      deps(kv, c.now),
      input([held], c.now()),
      admin,
    );
    const p = await previewSchedule(
      deps(kv, c.now),
      input([held], c.now(), {
        actionType: "scheduled_restart",
        imageTag: undefined,
      }),
      { publicUrl: PUBLIC_URL },
    );
    assert.equal(p.leftOut.pending.items[0].actionId, holder.id);
    assert.equal(
      p.leftOut.pending.items[0].actionLabel,
      "Version change to OpenClaw 2.0.0",
    );
  });
});

Deno.test("preview: counts who is reached and who is left out and why, and writes nothing", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const f = await fleet(kv, c.now);
    const before = (await listActions(kv)).items.length;
    const p = await previewSchedule(
      deps(kv, c.now),
      input(f.all, c.now()),
      { publicUrl: PUBLIC_URL },
    );
    assert.equal(p.requested, 6);
    assert.deepEqual(p.affected, { instances: 2, owners: 2 });
    assert.equal(p.leftOut.destroyed.items[0].name, "Gone bot");
    assert.equal(p.leftOut.pinned.items[0].name, "Pinned bot");
    assert.equal(p.leftOut.alreadyOnTag.items[0].name, "Current bot");
    assert.equal(p.leftOut.pending.count, 1);
    assert.equal(p.leftOut.pending.items[0].actionId, f.holderId);
    assert.equal(p.leftOut.pending.items[0].actionLabel, "Restart");
    // Without "skip those" the schedule would be a 409: the preview says why.
    assert.equal(p.ready, false);
    assert.deepEqual(p.problems.map((i) => i.path), ["skipPending"]);
    assert.match(p.problems[0].message, /already has a pending action/);

    const skipping = await previewSchedule(
      deps(kv, c.now),
      input(f.all, c.now()),
      { publicUrl: PUBLIC_URL, skipPending: true },
    );
    assert.equal(skipping.ready, true);
    assert.notEqual(skipping.fingerprint, p.fingerprint);
    assert.equal((await listActions(kv)).items.length, before);
  });
});

Deno.test("preview: the sample email is the email the sweep sends, in the owner's zone", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const f = await fleet(kv, c.now);
    const chosen = input([f.ids.plainA, f.ids.plainB], c.now(), {
      noticeLeadHours: 2,
      noticeSubject: "Upgrade tonight",
      noticeBody: "Thanks for your patience.",
    });
    const p = await previewSchedule(deps(kv, c.now), chosen, {
      publicUrl: PUBLIC_URL,
      sampleOwnerId: f.ada.id,
    });
    assert.equal(p.sample?.owner.id, f.ada.id);
    assert.equal(p.sample?.instance.name, "Ada's bot");
    assert.match(
      p.sample!.email!.text,
      /from OpenClaw 1\.0\.0 to OpenClaw 2\.0\.0/,
    );
    assert.match(
      p.sample!.email!.text,
      /Mon, Dec 31, 2029, 20:00 EST \(01:00 UTC\)/,
    );
    assert.equal(p.sample!.push!.devices, 1);
    assert.match(p.sample!.push!.body, /Dec 31, 20:00 EST/);
    assert.equal(p.notice?.atOnce, true);

    await scheduleAction(deps(kv, c.now), chosen, admin);
    const config = testConfig({ publicUrl: PUBLIC_URL });
    const email = new OutboxEmailSender(kv, c.now);
    await sweep({
      kv,
      now: c.now,
      dispatchers: createDispatchers({ config, kv, email, now: c.now }),
    });
    const sent = (await listOutbox(kv)).items.find((m) =>
      m.kind === "email" && m.to === "ada@example.com"
    );
    assert.ok(sent && sent.kind === "email", "Ada's email was sent");
    assert.equal(sent.subject, p.sample!.email!.subject);
    // The same email, "Add to calendar" included; only the link's target differs
    // (the sent one names the scheduled target, which the review has not yet).
    const link = (body: string) => body.match(/https:\S+?\.ics/)?.[0];
    const sentLink = link(sent.html);
    const reviewLink = link(p.sample!.email!.html);
    assert.ok(sentLink && reviewLink, "both emails carry a calendar link");
    assert.match(p.sample!.email!.html, />Add to calendar</);
    assert.equal(
      sent.html.replaceAll(sentLink, reviewLink),
      p.sample!.email!.html,
    );
    assert.equal(
      sent.text.replaceAll(sentLink, reviewLink),
      p.sample!.email!.text,
    );
  });
});

Deno.test("preview: warns about a lead longer than the time left and owners without a device", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const f = await fleet(kv, c.now);
    const soon = await previewSchedule(
      deps(kv, c.now),
      input([f.ids.plainA, f.ids.plainB], c.now(), {
        scheduledAt: new Date(c.now() + 5 * 60_000).toISOString(),
        noticeLeadHours: 24,
      }),
      { publicUrl: PUBLIC_URL },
    );
    assert.deepEqual(soon.warnings.map((w) => w.code), [
      "notice_at_once",
      "no_device",
    ]);
    assert.match(
      soon.warnings[0].message,
      /longer than the time left \(5 min\)/,
    );
    assert.match(soon.warnings[1].message, /1 of 2 owners has no device/);
    // Half a minute short of the lead: never "longer than the time left (24 h)".
    const justShort = await previewSchedule(
      deps(kv, c.now),
      input([f.ids.plainA], c.now(), {
        scheduledAt: new Date(c.now() + 24 * 3_600_000 - 30_000)
          .toISOString(),
        noticeLeadHours: 24,
      }),
      { publicUrl: PUBLIC_URL },
    );
    assert.match(
      justShort.warnings[0].message,
      /^The lead \(24 h\) is longer than the time left \(23 h 59 min\): notices go out at once, only 23 h 59 min ahead\.$/,
    );
    const silent = await previewSchedule(
      deps(kv, c.now),
      input([f.ids.plainA], c.now(), { notify: false }),
      { publicUrl: PUBLIC_URL },
    );
    assert.deepEqual(silent.warnings, []);
    assert.equal(silent.notice, null);
    assert.equal(silent.sample?.email, null);
  });
});

Deno.test("schedule: skipPending leaves out the instances another action holds", async () => {
  await withKv(async (kv) => {
    const c = clock();
    const f = await fleet(kv, c.now);
    await assert.rejects(
      scheduleAction(deps(kv, c.now), input(f.all, c.now()), admin),
      (err: unknown) => err instanceof AppError && err.status === 409,
    );
    const res = await scheduleAction(
      deps(kv, c.now),
      input(f.all, c.now()),
      admin,
      { skipPending: true },
    );
    assert.equal(res.targets.total, 2);
    assert.deepEqual(res.excluded.pending, [f.ids.held]);
    assert.deepEqual(res.excluded.alreadyOnTag, [f.ids.onTag]);
  });
});

Deno.test("schedule: a version change to the tag every chosen instance runs is refused", async () => {
  await withKv(async (kv) => {
    await seedCatalog(kv);
    const c = clock();
    const inst = await seedInstances(kv, 2, { imageTag: "v2" });
    await assert.rejects(
      scheduleAction(
        deps(kv, c.now),
        input(inst.map((i) => i.id), c.now()),
        admin,
      ),
      (err: unknown) => {
        assert.ok(err instanceof AppError && err.status === 400);
        assert.match(err.message, /already on that tag/);
        return true;
      },
    );
  });
});

Deno.test("API: POST /api/admin/scheduled-actions/preview answers the dry run and changes nothing", async () => {
  const app = await createTestApp();
  try {
    const c = clock(Date.now());
    const f = await fleet(app.kv, c.now);
    const res = await app.api("POST", "/api/admin/scheduled-actions/preview", {
      actionType: "version_change",
      imageTag: "v2",
      instanceIds: f.all,
      scheduledAt: new Date(Date.now() + 3 * HOUR).toISOString(),
      skipPending: true,
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.ready, true);
    assert.deepEqual(body.affected, { instances: 2, owners: 2 });
    assert.equal((await listActions(app.kv)).items.length, 1);
    const bad = await app.api("POST", "/api/admin/scheduled-actions/preview", {
      actionType: "scheduled_restart",
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const skipped = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "version_change",
      imageTag: "v2",
      instanceIds: f.all,
      scheduledAt: new Date(Date.now() + 3 * HOUR).toISOString(),
      skipPending: true,
    });
    assert.equal(skipped.status, 201);
    assert.deepEqual((await skipped.json()).excluded.pending, [f.ids.held]);
  } finally {
    await app.close();
  }
});
