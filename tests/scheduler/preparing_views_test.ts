/**
 * A large action while it is written in the background (`preparing`), as
 * admins and owners see it: the progress API and the action's detail say how
 * far the write got, the action page shows it with only a cancel to offer,
 * the lists find it by status, every other change is a 409 that changes
 * nothing, and owners see nothing of it. Once written, the same page and API
 * turn to the scheduled action, saying how many instances were left out.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import {
  faultyKv,
  input,
  seedCatalog,
  seedInstances,
} from "../helpers/scheduling.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { backgroundWritesSettled } from "@/lib/scheduler/prepare_resume.ts";
import { runPreparedWrite } from "@/lib/scheduler/prepare.ts";
import { buildOpenApiDocument } from "@/lib/openapi/document.ts";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { calendarSigner } from "@/lib/calendar.ts";
import { keys } from "@/lib/kv/keys.ts";
import { allTargetIdsOfAction, getTargetEntries } from "@/lib/kv/actions.ts";
import type { Instance, ScheduledAction } from "@/lib/types.ts";
import type { AppContext } from "@/lib/app_context.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2030-05-06T08:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const INSTANCES = 120;

interface World {
  app: TestApp;
  id: string;
  holder: string;
  admin: { cookie: string; csrfToken: string };
  owner: { cookie: string; csrfToken: string; user: { id: string } };
  mine: Instance;
  others: Instance[];
  setNow(ms: number): void;
  now(): number;
}

/**
 * 120 instances, over the inline limit of 50: the action is committed
 * `preparing` and nothing runs its write until the test does.
 */
async function world(
  extra: Record<string, unknown> = {},
): Promise<World> {
  let now = T0;
  const app = await createTestApp({
    config: { scheduleMinAheadSeconds: 0, scheduleInlineTargets: 50 },
    context: { now: () => now },
  });
  await seedCatalog(app.kv);
  const admin = await app.signIn({ admin: true, name: "Ada" });
  const owner = await app.signIn({ name: "Olu" });
  const [mine] = await seedInstances(app.kv, 1, { ownerId: owner.user.id });
  const others = await seedInstances(app.kv, INSTANCES - 1);
  let holder = "";
  const result = await scheduleAction(
    {
      kv: app.kv,
      config: { scheduleMinAheadSeconds: 0, scheduleInlineTargets: 50 },
      now: () => now,
      startBackgroundWrite: (_, h) => {
        holder = h;
      },
    },
    input([mine, ...others].map((i) => i.id), T0, {
      scheduledAt: iso(T0 + 2 * DAY),
      noticeLeadHours: 24,
      noticeChannels: ["email", "webapp"],
      ownerMayPostpone: { until: iso(T0 + 5 * DAY), times: 2 },
      ...extra,
    }),
    admin.user,
  );
  assert.equal(result.action.status, "preparing");
  assert.ok(holder, "the schedule handed its write to the background");
  return {
    app,
    id: result.id,
    holder,
    admin,
    owner,
    mine,
    others,
    setNow: (ms) => (now = ms),
    now: () => now,
  };
}

/**
 * Part of the write: every commit after the first few fails, as when the
 * process dies mid-write; the instances committed so far stay written.
 */
async function writeSome(w: World): Promise<void> {
  await assert.rejects(() =>
    runPreparedWrite(
      { kv: faultyKv(w.app.kv, 3, true), now: w.now },
      w.id,
      w.holder,
    )
  );
}

async function json(res: Response) {
  const body = await res.json();
  return { status: res.status, body };
}

async function page(w: World, path: string): Promise<string> {
  const res = await w.app.request(path, {
    headers: { cookie: w.admin.cookie },
  });
  assert.equal(res.status, 200, path);
  return await res.text();
}

/** What a refused change must leave as it was. */
async function snapshot(w: World) {
  const action = (await w.app.kv.get<ScheduledAction>(keys.action(w.id)))
    .value;
  const targets = (await getTargetEntries(
    w.app.kv,
    await allTargetIdsOfAction(w.app.kv, w.id),
  )).map((e) => e.value);
  const stages = [];
  for await (const e of w.app.kv.list({ prefix: keys.stages(w.id) })) {
    stages.push(e.value);
  }
  return JSON.stringify({ action, targets, stages });
}

Deno.test("preparing: the progress API and the detail say how far the write got, then what it came to", async () => {
  const w = await world();
  try {
    const before = await apiOk(
      w.app,
      "GET",
      `/api/admin/scheduled-actions/${w.id}/progress`,
    );
    assert.equal(before.action.status, "preparing");
    assert.deepEqual(before.preparing, {
      written: 0,
      total: INSTANCES,
      leftOut: 0,
    });

    await writeSome(w);
    const part = await apiOk(
      w.app,
      "GET",
      `/api/admin/scheduled-actions/${w.id}/progress`,
    );
    const written = part.preparing.written;
    assert.ok(written > 0 && written < INSTANCES, `written ${written}`);
    assert.equal(part.action.status, "preparing");
    assert.equal(part.counters.total, written);
    const detail = await apiOk(
      w.app,
      "GET",
      `/api/admin/scheduled-actions/${w.id}`,
    );
    assert.equal(detail.action.status, "preparing");
    assert.deepEqual(detail.preparing, {
      written,
      total: INSTANCES,
      leftOut: 0,
    });

    assert.equal(
      await runPreparedWrite({ kv: w.app.kv, now: w.now }, w.id, w.holder),
      "done",
    );
    const after = await apiOk(
      w.app,
      "GET",
      `/api/admin/scheduled-actions/${w.id}/progress`,
    );
    assert.equal(after.action.status, "scheduled");
    assert.deepEqual(after.preparing, {
      total: INSTANCES,
      leftOut: 0,
      writtenAt: iso(T0),
    });
    assert.equal(after.counters.total, INSTANCES);
    const detailAfter = await apiOk(
      w.app,
      "GET",
      `/api/admin/scheduled-actions/${w.id}`,
    );
    assert.deepEqual(detailAfter.preparing, after.preparing);
  } finally {
    await w.app.close();
  }
});

Deno.test("preparing: an ordinary action's progress and detail have no preparing field", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const few = await seedInstances(app.kv, 3);
    const made = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: few.map((i) => i.id),
      scheduledAt: iso(Date.now() + 2 * HOUR),
    });
    const progress = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${made.id}/progress`,
    );
    assert.equal("preparing" in progress, false);
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${made.id}`,
    );
    assert.equal("preparing" in detail, false);
  } finally {
    await app.close();
  }
});

Deno.test("preparing: the action page shows the write and offers only a cancel, then turns to the scheduled action", async () => {
  const w = await world({ actionType: "version_change", imageTag: "v2" });
  try {
    await writeSome(w);
    const { body: progress } = await json(
      await w.app.api(
        "GET",
        `/api/admin/scheduled-actions/${w.id}/progress`,
      ),
    );
    const written = progress.preparing.written;
    const html = await page(w, `/admin/actions/${w.id}`);
    assert.match(html, /class="pill pill-preparing"/);
    assert.match(html, new RegExp(`Writing targets: ${written} of 120`));
    assert.match(html, /aria-label="\d+ of 120 instances written"/);
    assert.match(
      html,
      /Nothing is sent and nothing is applied until the whole action is\s+written/,
    );
    assert.match(html, /Cancel action/);
    assert.doesNotMatch(html, /class="move-open"/);
    assert.doesNotMatch(html, /Roll back|Resume rollout|Abort rollout/);
    // No "0 of 0 done" while the counters hold only what is written so far.
    assert.doesNotMatch(html, /data-testid="progress"/);
    // Not a single instance can be cancelled on its own while it is written.
    assert.doesNotMatch(html, /Cancel for this instance/);

    // The schedule form's redirect lands here: it counts the whole action.
    const flash = await page(w, `/admin/actions/${w.id}?scheduled=1`);
    assert.match(flash, /Scheduled for 120 instances\./);

    assert.equal(
      await runPreparedWrite({ kv: w.app.kv, now: w.now }, w.id, w.holder),
      "done",
    );
    const after = await page(w, `/admin/actions/${w.id}`);
    assert.match(after, /class="pill pill-scheduled"/);
    assert.doesNotMatch(after, /Writing targets/);
    assert.match(after, /data-testid="progress"/);
    assert.match(after, /class="move-open"/);
    assert.doesNotMatch(after, /data-testid="left-out"/);
  } finally {
    await w.app.close();
  }
});

Deno.test("preparing: instances destroyed while it is written are left out, and the page and list say how many", async () => {
  const w = await world();
  try {
    // The others' owners sort after Olu's id: their instances are written last.
    const gone = w.others.at(-1)!;
    const res = await w.app.api("PUT", `/api/admin/instances/${gone.id}`, {
      name: gone.name,
      ownerId: gone.ownerId,
      imageTag: "v1",
      status: "destroyed",
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal(
      await runPreparedWrite({ kv: w.app.kv, now: w.now }, w.id, w.holder),
      "done",
    );
    const progress = await apiOk(
      w.app,
      "GET",
      `/api/admin/scheduled-actions/${w.id}/progress`,
    );
    assert.equal(progress.preparing.leftOut, 1);
    assert.equal(progress.counters.total, INSTANCES - 1);
    const html = await page(w, `/admin/actions/${w.id}`);
    assert.match(
      html,
      /1 instance was left out: another action took it, or it was destroyed, while this action was written\./,
    );
    const list = await page(w, `/admin/actions`);
    assert.match(list, /119 · 0 applied · 0 skipped · 0 failed · 1 left out/);
  } finally {
    await w.app.close();
  }
});

Deno.test("preparing: the lists find it by status, with its progress", async () => {
  const w = await world();
  try {
    const found = await apiOk(
      w.app,
      "GET",
      "/api/admin/scheduled-actions?status=preparing",
    );
    assert.deepEqual(
      found.items.map((i: { action: { id: string } }) => i.action.id),
      [w.id],
    );
    assert.deepEqual(found.items[0].preparing, {
      written: 0,
      total: INSTANCES,
      leftOut: 0,
    });
    const scheduled = await apiOk(
      w.app,
      "GET",
      "/api/admin/scheduled-actions?status=scheduled",
    );
    assert.equal(scheduled.items.length, 0);

    const html = await page(w, "/admin/actions?status=preparing");
    assert.match(html, new RegExp(`data-action="${w.id}"`));
    assert.match(html, /data-testid="list-writing">Writing targets: 0 of 120/);
    assert.match(html, /value="preparing" checked/);
  } finally {
    await w.app.close();
  }
});

Deno.test("preparing: every change but a cancel is a clear 409 that changes nothing", async () => {
  const w = await world({ actionType: "version_change", imageTag: "v2" });
  try {
    await writeSome(w);
    const [targetId] = await allTargetIdsOfAction(w.app.kv, w.id);
    assert.ok(targetId, "some targets are written");
    const before = await snapshot(w);
    const refusals: [string, string, unknown?][] = [
      ["POST", `/api/admin/scheduled-actions/${w.id}/reschedule`, {
        scheduledAt: iso(T0 + 3 * DAY),
      }],
      ["POST", `/api/admin/scheduled-actions/${w.id}/reschedule/preview`, {
        scheduledAt: iso(T0 + 3 * DAY),
      }],
      [
        "POST",
        `/api/admin/scheduled-actions/${w.id}/targets/${targetId}/cancel`,
      ],
      ["POST", `/api/admin/scheduled-actions/${w.id}/resume`, {}],
      ["POST", `/api/admin/scheduled-actions/${w.id}/abort`, {}],
      ["POST", `/api/admin/scheduled-actions/${w.id}/rollback`, {}],
      ["POST", `/api/admin/scheduled-actions/${w.id}/recount`],
    ];
    for (const [method, path, body] of refusals) {
      const { status, body: answer } = await json(
        await w.app.api(method, path, body),
      );
      assert.equal(status, 409, `${path}: ${JSON.stringify(answer)}`);
      assert.match(
        answer.error,
        new RegExp(
          `^action ${w.id} is still being written \\(preparing\\): .+; cancel it or wait until it is scheduled$`,
        ),
        path,
      );
    }
    assert.equal(await snapshot(w), before, "nothing changed");

    // The owner's postpone: for them, no change is planned yet.
    const postponed = await w.app.request(
      `/api/instances/${w.mine.id}/postpone`,
      {
        method: "POST",
        headers: {
          cookie: w.owner.cookie,
          origin: ORIGIN,
          "x-csrf-token": w.owner.csrfToken,
          "content-type": "application/json",
        },
        body: JSON.stringify({ scheduledAt: iso(T0 + 3 * DAY) }),
      },
    );
    const p = await json(postponed);
    assert.equal(p.status, 409, JSON.stringify(p.body));
    assert.equal(p.body.error, "no change is planned for this instance");
    assert.equal(await snapshot(w), before, "nothing changed");

    // A cancel goes through.
    const cancelled = await apiOk(
      w.app,
      "POST",
      `/api/admin/scheduled-actions/${w.id}/cancel`,
    );
    assert.equal(cancelled.action.status, "cancelled");
  } finally {
    await w.app.close();
  }
});

Deno.test("preparing: owners see nothing of it, on the workspace, the status API, their list or a calendar link", async () => {
  const w = await world();
  try {
    await writeSome(w);
    // Olu's instance is written (owners are written in order, Olu first).
    const lock = await w.app.kv.get<{ actionId: string; targetId: string }>(
      keys.instancePendingTarget(w.mine.id),
    );
    assert.equal(lock.value?.actionId, w.id);
    // Past the notice's lead: a scheduled action would be on the banner now.
    w.setNow(T0 + DAY + HOUR);
    const asOwner = { headers: { cookie: w.owner.cookie } };
    const status = await json(
      await w.app.request(`/api/instances/${w.mine.id}/status`, asOwner),
    );
    assert.equal(status.status, 200);
    assert.equal(status.body.scheduledAction, null);
    const list = await json(await w.app.request(`/api/instances`, asOwner));
    assert.equal(list.status, 200);
    assert.doesNotMatch(JSON.stringify(list.body), new RegExp(w.id));
    const workspace = await w.app.request(`/claw/${w.mine.id}`, asOwner);
    assert.equal(workspace.status, 200);
    const text = await workspace.text();
    assert.match(text, /"status":\{"scheduledAction":null\},"postpone":null/);
    // The admin's page of the instance says which action holds it.
    const adminView = await page(w, `/admin/instances/${w.mine.id}`);
    assert.match(
      adminView,
      new RegExp(
        `data-testid="pending-preparing"><a href="/admin/actions/${w.id}"`,
      ),
    );
    assert.doesNotMatch(adminView, /Nothing is scheduled for this instance/);
    // Scheduling it again would only meet a 409: no schedule buttons.
    assert.doesNotMatch(adminView, /\/admin\/actions\/new\?instanceId=/);
    // The admin API names it as the instance's pending action, preparing.
    const detail = await json(
      await w.app.api("GET", `/api/admin/instances/${w.mine.id}`),
    );
    assert.equal(detail.status, 200);
    assert.equal(detail.body.pendingAction?.action.id, w.id);
    assert.equal(detail.body.pendingAction?.action.status, "preparing");
    assert.equal(detail.body.pendingAction?.target.id, lock.value!.targetId);
    const token = (await calendarSigner(w.app.kv))(lock.value!.targetId);
    const ics = await w.app.request(
      `/calendar/${lock.value!.targetId}/${token}.ics`,
    );
    assert.equal(ics.status, 404);
    await ics.body?.cancel();

    // Written whole, the same calendar link answers.
    w.setNow(T0);
    assert.equal(
      await runPreparedWrite({ kv: w.app.kv, now: w.now }, w.id, w.holder),
      "done",
    );
    const written = await w.app.request(
      `/calendar/${lock.value!.targetId}/${token}.ics`,
    );
    assert.equal(written.status, 200);
    await written.body?.cancel();
  } finally {
    await w.app.close();
  }
});

Deno.test("preparing: the schedule form over all 10,050 matching instances reviews, schedules and lands on the action's progress", async () => {
  let holder = "";
  const context = {
    // The write waits for the test, so the page is seen while it is written.
    startBackgroundWrite: (_: string, h: string) => {
      holder = h;
    },
  } as Partial<AppContext>;
  const app = await createTestApp({ context });
  try {
    await seedCatalog(app.kv);
    const fleet = await seedInstances(app.kv, 10_050);
    const admin = await app.signIn({ admin: true });
    // One time for the review and the schedule: a minute turning between
    // them would change what was reviewed.
    const at = new Date(Date.now() + 30 * HOUR).toISOString().slice(0, 16);
    const post = (fields: Record<string, string>, json: boolean) =>
      app.request("/admin/actions/new", {
        method: "POST",
        headers: {
          cookie: admin.cookie,
          origin: ORIGIN,
          "content-type": "application/x-www-form-urlencoded",
          ...(json ? { accept: "application/json" } : {}),
        },
        body: new URLSearchParams({
          _csrf: admin.csrfToken,
          actionType: "scheduled_restart",
          targets: "match",
          "match.tag": "v1",
          when: "at",
          scheduledAt: at,
          timeZone: "UTC",
          notify: "on",
          noticeLeadHours: "24",
          noticeChannels: "email",
          ...fields,
        }),
      });
    const reviewed = await post({ intent: "preview" }, true);
    assert.equal(reviewed.status, 200);
    const { preview } = await reviewed.json();
    assert.ok(preview.ready, JSON.stringify(preview.problems));
    // The review says it will be written in the background first.
    const background = preview.warnings.find((
      w: { code: string; message: string },
    ) => w.code === "background_write");
    assert.match(
      background?.message ?? "",
      /^10,050 instances are more than 10,000: the action is written in the background first/,
    );
    const scheduled = await post({
      intent: "schedule",
      reviewed: preview.fingerprint,
    }, false);
    assert.equal(scheduled.status, 303, await scheduled.text());
    const location = scheduled.headers.get("location")!;
    const id = /^\/admin\/actions\/([^?]+)\?scheduled=1/.exec(location)?.[1];
    assert.ok(id, location);
    assert.ok(holder, "a large action is written in the background");

    const res = await app.request(location, {
      headers: { cookie: admin.cookie },
    });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /Scheduled for 10,050 instances\./);
    assert.match(html, /Writing targets: 0 of 10,050/);

    assert.equal(
      await runPreparedWrite({ kv: app.kv, now: Date.now }, id, holder),
      "done",
    );
    const after = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}/progress`,
    );
    assert.equal(after.action.status, "scheduled");
    assert.equal(after.counters.total, fleet.length);
  } finally {
    await app.close();
  }
});

Deno.test("preparing: the 202, the detail, the progress and the list answer as the OpenAPI document says, while preparing and after", async () => {
  const w = await world();
  try {
    const doc = buildOpenApiDocument(w.app.ctx.config.publicUrl);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
    ajv.addSchema(doc as object, "openapi.json");
    const answers = (path: string, method: string, status: number) => {
      const ref = ["paths", path, method, "responses", String(status)]
        .concat(["content", "application/json", "schema"])
        .map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
      return ajv.compile({ $ref: `openapi.json#/${ref}` });
    };
    const check = async (
      path: string,
      documented: string,
      method = "get",
      status = 200,
      body?: unknown,
    ) => {
      const res = await w.app.api(method.toUpperCase(), path, body);
      assert.equal(res.status, status, path);
      const value: { preparing: object } = await res.json();
      const validate = answers(documented, method, status);
      const documentedShape = validate(value);
      assert.ok(documentedShape, `${path}: ${ajv.errorsText(validate.errors)}`);
      return value;
    };
    const read = async () => {
      const progress = await check(
        `/api/admin/scheduled-actions/${w.id}/progress`,
        "/api/admin/scheduled-actions/{id}/progress",
      );
      await check(
        `/api/admin/scheduled-actions/${w.id}`,
        "/api/admin/scheduled-actions/{id}",
      );
      await check(
        "/api/admin/scheduled-actions",
        "/api/admin/scheduled-actions",
      );
      return progress;
    };
    await writeSome(w);
    assert.ok("written" in (await read()).preparing);
    await runPreparedWrite({ kv: w.app.kv, now: w.now }, w.id, w.holder);
    assert.ok("writtenAt" in (await read()).preparing);

    const more = await seedInstances(w.app.kv, 60);
    const accepted = await check(
      "/api/admin/scheduled-actions",
      "/api/admin/scheduled-actions",
      "post",
      202,
      {
        actionType: "scheduled_restart",
        instanceIds: more.map((i) => i.id),
        scheduledAt: iso(T0 + 2 * DAY),
      },
    );
    assert.equal(
      (accepted as { action?: { status: string } }).action?.status,
      "preparing",
    );
    assert.deepEqual(accepted.preparing, { written: 0, total: 60, leftOut: 0 });
    await backgroundWritesSettled();
  } finally {
    await w.app.close();
  }
});
