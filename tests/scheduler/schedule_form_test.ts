/**
 * The schedule form on the server: what was posted becomes the API's body
 * (the wall clock in its zone becomes the instant it names), and every
 * problem is pinned to its field in plain words — no paths, no zod wording.
 */
import assert from "node:assert/strict";
import {
  checkScheduleForm,
  readScheduleForm,
} from "@/lib/views/schedule_form.ts";
import { FIELD } from "@/lib/views/form_model.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { withKv } from "../helpers/kv.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");

function form(fields: Record<string, string | string[]>): FormData {
  const f = new FormData();
  const base: Record<string, string | string[]> = {
    actionType: "scheduled_restart",
    targets: "ids",
    instanceId: ["claw-1"],
    when: "at",
    scheduledAt: "2030-01-02T09:30",
    timeZone: "America/New_York",
    notify: "on",
    noticeLeadHours: "24",
    noticeChannels: ["email", "webapp", "mobile_push"],
    ...fields,
  };
  for (const [k, v] of Object.entries(base)) {
    for (const one of Array.isArray(v) ? v : [v]) f.append(k, one);
  }
  return f;
}

const check = (kv: Deno.Kv, f: FormData) =>
  checkScheduleForm(kv, readScheduleForm(f), {
    now: NOW,
    minAheadSeconds: 60,
  });

Deno.test("schedule form: the time means what the field shows, in the zone named beside it", async () => {
  await withKv(async (kv) => {
    const ok = await check(kv, form({}));
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.input?.scheduledAt, "2030-01-02T14:30:00.000Z");
    const kolkata = await check(kv, form({ timeZone: "Asia/Kolkata" }));
    assert.equal(kolkata.input?.scheduledAt, "2030-01-02T04:00:00.000Z");
    const now = await check(kv, form({ when: "now", scheduledAt: "" }));
    assert.equal(now.input?.scheduledAt, "2030-01-01T00:02:00.000Z");
  });
});

Deno.test("schedule form: problems are pinned to their fields, in plain words", async () => {
  await withKv(async (kv) => {
    const cases: [Record<string, string | string[]>, string, RegExp][] = [
      [
        { noticeLeadHours: "" },
        FIELD.lead,
        /^Enter the hours of notice: a whole number from 1 to 168\.$/,
      ],
      [
        { noticeLeadHours: "2.5" },
        FIELD.lead,
        /^The hours of notice must be a whole number from 1 to 168\.$/,
      ],
      [
        { noticeLeadHours: "0" },
        FIELD.lead,
        /^A notice 0 hours ahead is due as the action starts, too late to send: give at least 1 hour, or choose “Apply now”/,
      ],
      [
        { noticeChannels: [] },
        FIELD.channels,
        /^Choose at least one channel, or turn off/,
      ],
      [{ instanceId: [] }, FIELD.targets, /^Choose at least one instance/],
      [{ scheduledAt: "" }, FIELD.scheduledAt, /^Enter the date and time/],
      [
        { scheduledAt: "2030-03-10T02:30" },
        FIELD.scheduledAt,
        /does not exist in America\/New_York: the clocks go forward/,
      ],
      [
        { actionType: "version_change", imageTag: "" },
        FIELD.imageTag,
        /^Choose the version to change to\.$/,
      ],
      [
        { noticeSubject: "a\nb" },
        FIELD.subject,
        /^The email subject must be a single line \(no line breaks\)\.$/,
      ],
      [
        { reason: "x".repeat(300) },
        FIELD.reason,
        /^The reason must be at most 256 characters \(got 300\)\.$/,
      ],
    ];
    for (const [fields, field, message] of cases) {
      const r = await check(kv, form(fields));
      assert.equal(r.input, null, JSON.stringify(fields));
      assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
      assert.equal(r.errors[0].field, field);
      assert.match(r.errors[0].message, message);
    }
    // With notices off, the lead and channels do not matter.
    const silent = await check(
      kv,
      form({ notify: [], noticeLeadHours: "", noticeChannels: [] }),
    );
    assert.deepEqual(silent.errors, []);
    assert.equal(silent.input?.notify, false);
  });
});

Deno.test("schedule form: 'all matching' becomes the instances the filters find now", async () => {
  await withKv(async (kv) => {
    for (const [id, tag] of [["a", "v1"], ["b", "v1"], ["c", "v2"]]) {
      await putInstance(kv, id, {
        name: `bot ${id}`,
        ownerId: "o",
        imageTag: tag,
      });
    }
    const r = await check(
      kv,
      form({ targets: "match", instanceId: [], "match.tag": "v1" }),
    );
    assert.deepEqual(r.input?.instanceIds, ["a", "b"]);
    const none = await check(
      kv,
      form({ targets: "match", instanceId: [], "match.tag": "v9" }),
    );
    assert.match(
      none.errors[0].message,
      /^No instance matches tag v9 any more\.$/,
    );
  });
});

Deno.test("schedule form: every problem is said at once, the time's and the reminders' included, in the form's words", async () => {
  await withKv(async (kv) => {
    const r = await check(
      kv,
      form({
        scheduledAt: "2029-12-31T09:00",
        noticeLeadHours: "200",
        reminderLeadHours: "300",
        noticeSubject: "a\nb",
      }),
    );
    assert.equal(r.input, null);
    const said = Object.fromEntries(r.errors.map((e) => [e.field, e.message]));
    assert.deepEqual(
      Object.keys(said).sort(),
      [
        FIELD.lead,
        FIELD.reminders,
        FIELD.scheduledAt,
        FIELD.subject,
      ].sort(),
    );
    assert.equal(said[FIELD.scheduledAt], "The time is in the past.");
    assert.match(said[FIELD.lead], /from 1 to 168/);
    assert.match(said[FIELD.reminders], /at most 167/);
    for (const e of r.errors) {
      assert.doesNotMatch(
        e.message,
        /noticeLeadHours|reminderLeadHours|scheduledAt/,
      );
    }
    // A reminder that is fine on its own but not before the notice: said in the form's words.
    const late = await check(
      kv,
      form({ noticeLeadHours: "24", reminderLeadHours: "30" }),
    );
    assert.deepEqual(late.errors.map((e) => e.field), [FIELD.reminders]);
    assert.match(
      late.errors[0].message,
      /fewer hours than the notice lead \(24 h\)/,
    );
  });
});

Deno.test("schedule form: 'Apply now' tells owners now: the hidden lead and reminders are not checked", async () => {
  await withKv(async (kv) => {
    const r = await check(
      kv,
      form({
        when: "now",
        scheduledAt: "",
        noticeLeadHours: "0",
        reminderLeadHours: "oops",
      }),
    );
    assert.deepEqual(r.errors, []);
    assert.equal(r.input?.noticeLeadHours, 24);
    assert.deepEqual(r.input?.reminderLeadHours, []);
  });
});
