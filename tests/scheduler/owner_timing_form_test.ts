/**
 * The schedule form's owner choices: "in each owner's maintenance window,
 * between … and …" becomes `timing` (both times in the form's zone), "owners
 * may postpone until …, at most N times" becomes `ownerMayPostpone`, "no"
 * leaves the change urgent; each problem is pinned to its own field.
 */
import assert from "node:assert/strict";
import {
  checkScheduleForm,
  readScheduleForm,
} from "@/lib/views/schedule_form.ts";
import { FIELD, MAX_POSTPONES } from "@/lib/views/form_model.ts";
import { MAX_POSTPONES as SCHEMA_MAX_POSTPONES } from "@/lib/scheduler/schemas.ts";
import { withKv } from "../helpers/kv.ts";

const NOW = Date.parse("2030-01-01T00:00:00Z");

function form(fields: Record<string, string | string[]>): FormData {
  const f = new FormData();
  const base: Record<string, string | string[]> = {
    actionType: "scheduled_restart",
    targets: "ids",
    instanceId: ["claw-1"],
    when: "windows",
    scheduledAt: "2030-01-07T00:00",
    windowDeadline: "2030-01-14T00:00",
    timeZone: "Asia/Kolkata",
    notify: "on",
    noticeLeadHours: "24",
    noticeChannels: ["email", "webapp"],
    ...fields,
  };
  for (const [k, v] of Object.entries(base)) {
    for (const one of Array.isArray(v) ? v : [v]) f.append(k, one);
  }
  return f;
}

const check = (kv: Deno.Kv, f: FormData) =>
  checkScheduleForm(kv, readScheduleForm(f), { now: NOW, minAheadSeconds: 60 });

Deno.test("schedule form: owners' windows between two times of the form's zone, and the postpone choice", async (t) => {
  await withKv(async (kv) => {
    await t.step(
      "windows: the time field is the earliest, the second the latest",
      async () => {
        const ok = await check(kv, form({}));
        assert.deepEqual(ok.errors, []);
        assert.deepEqual(ok.input?.timing, {
          mode: "owner_window",
          notBefore: "2030-01-06T18:30:00.000Z",
          deadline: "2030-01-13T18:30:00.000Z",
        });
        assert.equal(ok.input?.scheduledAt, "2030-01-06T18:30:00.000Z");
        assert.equal(ok.input?.ownerMayPostpone, null);
      },
    );
    await t.step("at one time: no timing", async () => {
      const ok = await check(kv, form({ when: "at" }));
      assert.deepEqual(ok.errors, []);
      assert.equal(ok.input?.timing, undefined);
    });
    await t.step(
      "a latest time before the earliest is said at its field",
      async () => {
        const bad = await check(
          kv,
          form({ windowDeadline: "2030-01-05T00:00" }),
        );
        assert.equal(bad.input, null);
        const e = bad.errors.find((e) => e.field === FIELD.windowDeadline);
        assert.match(e?.message ?? "", /^The latest time must be later/);
      },
    );
    await t.step("no latest time", async () => {
      const bad = await check(kv, form({ windowDeadline: "" }));
      const e = bad.errors.find((e) => e.field === FIELD.windowDeadline);
      assert.match(e?.message ?? "", /^Enter the latest time/);
    });
    await t.step(
      "owners may postpone until a time, at most N times",
      async () => {
        const ok = await check(
          kv,
          form({
            postpone: "yes",
            postponeUntil: "2030-01-20T00:00",
            postponeTimes: "2",
          }),
        );
        assert.deepEqual(ok.errors, []);
        assert.deepEqual(ok.input?.ownerMayPostpone, {
          until: "2030-01-19T18:30:00.000Z",
          times: 2,
        });
      },
    );
    await t.step(
      "a postpone limit before the change, and a bad count",
      async () => {
        const bad = await check(
          kv,
          form({
            when: "at",
            postpone: "yes",
            postponeUntil: "2030-01-06T00:00",
            postponeTimes: "x",
          }),
        );
        assert.equal(bad.input, null);
        assert.ok(
          bad.errors.some((e) => e.field === FIELD.postponeTimes),
          JSON.stringify(bad.errors),
        );
        const tooMany = await check(
          kv,
          form({
            postpone: "yes",
            postponeUntil: "2030-01-20T00:00",
            postponeTimes: "11",
          }),
        );
        const e = tooMany.errors.find((e) => e.field === FIELD.postponeTimes);
        assert.match(e?.message ?? "", /at most 10/i);
      },
    );
    await t.step("the form's limit is the schema's", () => {
      assert.equal(MAX_POSTPONES, SCHEMA_MAX_POSTPONES);
    });
  });
});
