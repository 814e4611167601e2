/**
 * The schedule API says every problem of a body at once — the schema's, the
 * time's, the version's and the instances' — in words a person reads, and
 * refuses a lead of 0 (a notice due as the action starts is never sent).
 * A lead longer than the time left stores notices due now, never in the past.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { HOUR, seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";

async function withApp(fn: (app: TestApp) => Promise<void>) {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    await fn(app);
  } finally {
    await app.close();
  }
}

async function answer(res: Response) {
  return {
    status: res.status,
    body: await res.json() as {
      error: string;
      issues?: { path: string; message: string }[];
    },
  };
}

const FIELD_NAMES =
  /noticeLeadHours|reminderLeadHours|scheduledAt|instanceIds|imageTag\b/;

const SCHEDULE = "/api/admin/scheduled-actions";
const PREVIEW = "/api/admin/scheduled-actions/preview";

Deno.test("API: every problem of a schedule body is answered at once, on both schedule and preview", async () => {
  await withApp(async (app) => {
    const [inst] = await seedInstances(app.kv, 1);
    const body = {
      actionType: "version_change",
      imageTag: "v9",
      instanceIds: [inst.id],
      scheduledAt: new Date(Date.now() - HOUR).toISOString(),
      noticeLeadHours: 200,
      reminderLeadHours: [250],
      noticeChannels: [],
    };
    for (const path of [SCHEDULE, PREVIEW]) {
      const r = await answer(await app.api("POST", path, body));
      assert.equal(r.status, 400, path);
      const paths = (r.body.issues ?? []).map((i) => i.path);
      for (
        const field of [
          "scheduledAt",
          "noticeLeadHours",
          "reminderLeadHours",
          "noticeChannels",
          "imageTag",
        ]
      ) {
        assert.ok(paths.includes(field), `${path}: ${field} in ${paths}`);
      }
      const said = Object.fromEntries(
        r.body.issues!.map((i) => [i.path, i.message]),
      );
      assert.equal(said.scheduledAt, "is in the past");
      assert.match(said.imageTag, /image tag v9 is not in the catalog/);
      for (const i of r.body.issues!) {
        assert.doesNotMatch(i.message, FIELD_NAMES, `${i.path}: ${i.message}`);
      }
    }

    // A body the schema takes: the time, the version and the instances together.
    const domain = await answer(
      await app.api("POST", SCHEDULE, {
        actionType: "version_change",
        imageTag: "v9",
        instanceIds: [inst.id, "no-such-bot"],
        scheduledAt: new Date(Date.now() - HOUR).toISOString(),
      }),
    );
    assert.equal(domain.status, 400);
    assert.deepEqual(
      domain.body.issues!.map((i) => i.path).sort(),
      ["imageTag", "instanceIds", "scheduledAt"],
    );

    // The cross-field rule in the form's words.
    const late = await answer(
      await app.api("POST", SCHEDULE, {
        actionType: "scheduled_restart",
        instanceIds: [inst.id],
        scheduledAt: new Date(Date.now() + 48 * HOUR).toISOString(),
        noticeLeadHours: 24,
        reminderLeadHours: [30],
      }),
    );
    assert.equal(late.status, 400);
    assert.deepEqual(late.body.issues, [{
      path: "reminderLeadHours",
      message:
        "each reminder must come after the notice: fewer hours than the notice lead (24 h)",
    }]);
  });
});

Deno.test("API: a lead of 0 is refused with why, unless owners are not told; a move to lead 0 too", async () => {
  await withApp(async (app) => {
    const inst = await seedInstances(app.kv, 2);
    const body = {
      actionType: "scheduled_restart",
      instanceIds: [inst[0].id],
      scheduledAt: new Date(Date.now() + 3 * HOUR).toISOString(),
      noticeLeadHours: 0,
    };
    for (const path of [SCHEDULE, PREVIEW]) {
      const r = await answer(await app.api("POST", path, body));
      assert.equal(r.status, 400, path);
      assert.deepEqual(r.body.issues!.map((i) => i.path), ["noticeLeadHours"]);
      assert.match(
        r.body.issues![0].message,
        /^must be at least 1 hour: a notice 0 hours ahead is due as the action starts, too late to send/,
      );
    }
    const silent = await app.api("POST", SCHEDULE, {
      ...body,
      notify: false,
    });
    assert.equal(silent.status, 201);
    const silentMove = await app.api(
      "POST",
      `${SCHEDULE}/${(await silent.json()).id}/reschedule`,
      {
        scheduledAt: new Date(Date.now() + 4 * HOUR).toISOString(),
        noticeLeadHours: 0,
      },
    );
    assert.equal(silentMove.status, 200);
    await silentMove.body?.cancel();

    const told = await answer(
      await app.api("POST", SCHEDULE, {
        ...body,
        instanceIds: [inst[1].id],
        noticeLeadHours: 1,
      }),
    );
    assert.equal(told.status, 201);
    const id = (told.body as unknown as { id: string }).id;
    const move = await answer(
      await app.api("POST", `${SCHEDULE}/${id}/reschedule`, {
        scheduledAt: new Date(Date.now() + 5 * HOUR).toISOString(),
        noticeLeadHours: 0,
      }),
    );
    assert.equal(move.status, 400);
    assert.match(move.body.issues![0].message, /at least 1 hour/);
  });
});

Deno.test("API: a lead longer than the time left stores its notices due now, not in the past", async () => {
  await withApp(async (app) => {
    const [inst] = await seedInstances(app.kv, 1);
    const before = Date.now();
    const created = await app.api("POST", SCHEDULE, {
      actionType: "scheduled_restart",
      instanceIds: [inst.id],
      scheduledAt: new Date(before + 10 * 60_000).toISOString(),
      noticeLeadHours: 24,
    });
    assert.equal(created.status, 201);
    const { id } = await created.json();
    const [target] = (await getActionDetail(app.kv, id)).targets.items;
    assert.equal(target.notifications.length, 3);
    for (const row of target.notifications) {
      assert.ok(
        row.dueAt >= before,
        `${row.channel} due ${new Date(row.dueAt).toISOString()}`,
      );
    }
  });
});
