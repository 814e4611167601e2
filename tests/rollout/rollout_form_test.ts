/**
 * The schedule form's "Roll out in waves", posted as a browser posts it
 * (through the real page): the rows become the API's waves and gate, the
 * review answers each wave, the API's problems come back pinned to the
 * wave's own field, the waves' buttons work without JavaScript, and what is
 * scheduled is what was reviewed.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { getActionDetail, listActions } from "@/lib/views/action_reads.ts";

const HOUR = 3_600_000;

async function setUp(count: number) {
  const app = await createTestApp();
  await seedCatalog(app.kv);
  const instances = await seedInstances(app.kv, count);
  const admin = await app.signIn({ admin: true });
  return { app, instances, admin };
}

function poster(
  app: TestApp,
  admin: { cookie: string; csrfToken: string },
  ids: string[],
) {
  return (fields: [string, string][], json = true) => {
    const form = new URLSearchParams([
      ["_csrf", admin.csrfToken],
      ["actionType", "scheduled_restart"],
      ["targets", "ids"],
      ...ids.map((id): [string, string] => ["instanceId", id]),
      ["when", "at"],
      [
        "scheduledAt",
        new Date(Date.now() + 30 * HOUR).toISOString().slice(0, 16),
      ],
      ["timeZone", "UTC"],
      ["notify", "on"],
      ["noticeLeadHours", "24"],
      ["noticeChannels", "email"],
      ...fields,
    ]);
    return app.request("/admin/actions/new", {
      method: "POST",
      headers: {
        cookie: admin.cookie,
        origin: ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
        ...(json ? { accept: "application/json" } : {}),
      },
      body: form,
    });
  };
}

const THREE_WAVES: [string, string][] = [
  ["wavesOn", "on"],
  ["waves.0.kind", "percent"],
  ["waves.0.amount", "10"],
  ["waves.0.soakMinutes", "60"],
  ["waves.1.kind", "count"],
  ["waves.1.amount", "5"],
  ["waves.1.soakMinutes", "30"],
  ["waves.2.kind", "percent"],
  ["waves.2.amount", "100"],
  ["waves.2.soakMinutes", "0"],
  ["gate.maxFailedPercent", "5"],
  ["gate.maxUnhealthyPercent", "10"],
];

Deno.test("schedule form: waves reviewed per wave, then scheduled as reviewed", async () => {
  const { app, instances, admin } = await setUp(20);
  try {
    const post = poster(app, admin, instances.map((i) => i.id));
    const res = await post([...THREE_WAVES, ["intent", "preview"]]);
    assert.equal(res.status, 200);
    const { preview, errors } = await res.json();
    assert.deepEqual(errors, []);
    assert.deepEqual(preview.stages.map((s: { size: number }) => s.size), [
      2,
      5,
      13,
    ]);
    assert.deepEqual(preview.rollout.gate, {
      maxFailedPercent: 5,
      maxUnhealthyPercent: 10,
    });

    // The page without JavaScript shows the same waves, and how their times are made.
    const page = await (await post(
      [...THREE_WAVES, ["intent", "review"]],
      false,
    )).text();
    assert.match(page, /In 3 waves/);
    assert.match(page, /Wave 2: 5 instances/);
    assert.match(page, /2 s per instance with 8 controller calls at once/);
    assert.match(
      page,
      /A wave starts only once the gate of the one before passed \(at most 5 % failed and 10 % unhealthy\)/,
    );

    const done = await post(
      [...THREE_WAVES, ["intent", "schedule"], [
        "reviewed",
        preview.fingerprint,
      ]],
      false,
    );
    assert.equal(done.status, 303);
    const [{ action }] = (await listActions(app.kv)).items;
    assert.deepEqual(action.gate, {
      maxFailedPercent: 5,
      maxUnhealthyPercent: 10,
    });
    const detail = await getActionDetail(app.kv, action.id);
    assert.deepEqual(detail.stages.map((s) => s.size), [2, 5, 13]);
    assert.deepEqual(
      detail.stages.map((s) => s.scheduledAt),
      preview.stages.map((s: { scheduledAt: string }) => s.scheduledAt),
    );
  } finally {
    await app.close();
  }
});

Deno.test("schedule form: waves off schedules one wave, whatever rows are on the page", async () => {
  const { app, instances, admin } = await setUp(4);
  try {
    const post = poster(app, admin, instances.map((i) => i.id));
    const rows = THREE_WAVES.filter(([k]) => k !== "wavesOn");
    const { preview } = await (await post([...rows, ["intent", "preview"]]))
      .json();
    assert.equal(preview.stages.length, 1);
    assert.equal(preview.rollout.gate, null);
  } finally {
    await app.close();
  }
});

Deno.test("schedule form: a wave's problem is pinned to that wave's field", async () => {
  const { app, instances, admin } = await setUp(6);
  try {
    const post = poster(app, admin, instances.map((i) => i.id));
    const withSoak = (soak: string) =>
      THREE_WAVES.map(([k, v]): [string, string] => [
        k,
        k === "waves.1.soakMinutes" ? soak : v,
      ]);
    // Over a week: the API's schema says it, on wave 2's soak.
    const tooLong = await (await post([...withSoak("20000"), [
      "intent",
      "review",
    ]])).json();
    assert.deepEqual(
      tooLong.errors.map((e: { field: string }) => e.field),
      ["f-wave-1-soak"],
    );
    assert.match(tooLong.errors[0].message, /^Wave 2's soak: at most/);
    assert.match(tooLong.errors[0].message, /10080/);

    // Not a number: the form says it in its own words.
    const words = await (await post([...withSoak("an hour"), [
      "intent",
      "review",
    ]])).json();
    assert.deepEqual(
      words.errors.map((e: { field: string }) => e.field),
      ["f-wave-1-soak"],
    );
    assert.match(words.errors[0].message, /whole minutes/);

    // A hand-picked canary naming an instance not chosen: on wave 1's ids.
    const [other] = await seedInstances(app.kv, 1);
    const stranger = await (await post([
      ["wavesOn", "on"],
      ["waves.0.kind", "canary"],
      ["waves.0.instanceIds", other.id],
      ["waves.0.soakMinutes", "10"],
      ["waves.1.kind", "percent"],
      ["waves.1.amount", "100"],
      ["intent", "review"],
    ])).json();
    assert.deepEqual(
      stranger.errors.map((e: { field: string }) => e.field),
      ["f-wave-0-ids"],
    );

    // The page without JavaScript shows the message next to the field.
    const page = await (await post(
      [...withSoak("20000"), ["intent", "review"]],
      false,
    )).text();
    assert.match(
      page,
      /<p class="field-error small"[^>]*>Wave 2's soak: at most/,
    );
    assert.match(page, /id="f-wave-1-soak"[^>]*aria-invalid="true"/);
  } finally {
    await app.close();
  }
});

Deno.test("schedule form without JavaScript: a preset, one more wave, one fewer", async () => {
  const { app, instances, admin } = await setUp(3);
  try {
    const post = poster(app, admin, instances.map((i) => i.id));
    const preset =
      await (await post([["intent", "waves-preset-halves"]], false))
        .text();
    assert.match(preset, /name="wavesOn"[^>]*checked/);
    assert.match(preset, /name="waves\.1\.kind"/);
    assert.doesNotMatch(preset, /name="waves\.2\.kind"/);

    const added = await (await post([
      ...THREE_WAVES,
      ["intent", "add-wave"],
    ], false)).text();
    assert.match(added, /name="waves\.3\.kind"/);

    const removed = await (await post([
      ...THREE_WAVES,
      ["intent", "remove-wave-1"],
    ], false)).text();
    assert.doesNotMatch(removed, /name="waves\.2\.kind"/);
    // Wave 2 is now what wave 3 was.
    assert.match(
      removed,
      /name="waves\.1\.amount"[^>]*value="100"|value="100"[^>]*name="waves\.1\.amount"/,
    );
  } finally {
    await app.close();
  }
});
