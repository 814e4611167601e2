/**
 * The admin's lists stay exact when an action, a tag or an owner holds many
 * instances: an action's targets filtered by outcome (a handful of failures
 * among thousands), the outcome index moving with every status change, an
 * action written before the index, "all N matching" past 10,000, and the
 * users page's instance counts.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { makeAction, makeTarget } from "../helpers/records.ts";
import {
  APPLIED,
  CANCELLED,
  change,
  end,
  endSome,
  FAILED,
  NOW,
  PINNED,
  seedAction,
} from "../helpers/outcome_fixtures.ts";
import { countKeys, seedInstances } from "../helpers/scheduling.ts";
import { keys } from "@/lib/kv/keys.ts";
import { addToCounter } from "@/lib/kv/actions.ts";
import {
  asEnded,
  asPendingAgain,
  asRunning,
  MUTATIONS_PER_NEW_TARGET,
  MUTATIONS_PER_REMOVED_TARGET,
  MUTATIONS_PER_TARGET_CHANGE,
  putTarget,
} from "@/lib/apply/target_status.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { getScheduleChoices } from "@/lib/views/list_reads.ts";
import { newId } from "@/lib/ids.ts";
import { DAY_MS, purgeEndedActions } from "@/lib/scheduler/retention.ts";
import { ensureOutcomeIndex } from "@/lib/apply/target_outcomes.ts";
import {
  outcomeOf,
  type Target,
  TARGET_OUTCOMES,
  type TargetOutcome,
} from "@/lib/types.ts";

/** Every page of the action's targets with `outcome`, through the API. */
async function pagesOf(
  app: TestApp,
  actionId: string,
  outcome: TargetOutcome,
  limit: number,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q = new URLSearchParams({ outcome, targetLimit: String(limit) });
    if (cursor) q.set("targetCursor", cursor);
    const res = await app.api(
      "GET",
      `/api/admin/scheduled-actions/${actionId}?${q}`,
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    for (const item of body.targets.items) {
      assert.equal(outcomeOf(item.target), outcome);
      ids.push(item.target.id);
    }
    cursor = body.targets.cursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

/** The outcome keys an action holds, as "outcome/targetId". */
async function outcomeKeys(kv: Deno.Kv, actionId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.targetsByOutcome(actionId) })) {
    out.push(`${String(e.key[2])}/${String(e.key[3])}`);
  }
  return out.sort();
}

Deno.test("outcome filter: exactly the failed targets among 3,000, across pages, and every other outcome too", async () => {
  const app = await createTestApp();
  try {
    const { action, targets } = await seedAction(app.kv, 3_000);
    const failed = await endSome(app.kv, targets, [7, 1_500, 2_999], FAILED);
    const applied = await endSome(app.kv, targets, [0, 1, 2, 3], APPLIED);
    const cancelled = await endSome(app.kv, targets, [10, 11], CANCELLED);
    const pinned = await endSome(app.kv, targets, [20], PINNED);
    const running = [
      await change(app.kv, targets[30], (t) => asRunning(t, NOW)),
    ];
    const ids = (ts: (Target | null)[]) => ts.map((t) => t!.id).sort();

    const f = await pagesOf(app, action.id, "failed", 2);
    assert.deepEqual(f.ids.sort(), ids(failed));
    assert.equal(f.pages, 2);
    assert.deepEqual(
      (await pagesOf(app, action.id, "applied", 500)).ids,
      ids(applied),
    );
    assert.deepEqual(
      (await pagesOf(app, action.id, "cancelled", 500)).ids,
      ids(cancelled),
    );
    assert.deepEqual(
      (await pagesOf(app, action.id, "skipped", 500)).ids,
      ids(pinned),
    );
    assert.deepEqual(
      (await pagesOf(app, action.id, "running", 500)).ids,
      ids(running),
    );
    const ended = new Set(
      ids([...failed, ...applied, ...cancelled, ...pinned, ...running]),
    );
    const pending = await pagesOf(app, action.id, "pending", 500);
    assert.equal(pending.pages, 6);
    assert.deepEqual(
      pending.ids,
      targets.map((t) => t.id).filter((id) => !ended.has(id)),
      "every pending target once, in creation order",
    );

    // The page: each outcome's exact count, the filter as links, "next" keeping it.
    const admin = await app.signIn({ admin: true });
    const page = async (q: string) => {
      const res = await app.request(`/admin/actions/${action.id}${q}`, {
        headers: { cookie: admin.cookie },
      });
      assert.equal(res.status, 200);
      return await res.text();
    };
    const all = await page("");
    const count = (html: string, o: string) =>
      html.match(
        new RegExp(
          `data-outcome="${o}"[^>]*>[^<]*<span class="count">([\\d,]+)<`,
        ),
      )?.[1];
    assert.equal(count(all, "all"), "3,000");
    assert.equal(count(all, "pending"), "2,989");
    assert.equal(count(all, "running"), "1");
    assert.equal(count(all, "applied"), "4");
    assert.equal(count(all, "skipped"), "1");
    assert.equal(count(all, "cancelled"), "2");
    assert.equal(count(all, "failed"), "3");
    assert.match(all, /href="\/admin\/actions\/[^"]+\?outcome=failed"/);

    const onlyFailed = await page("?outcome=failed");
    assert.match(onlyFailed, /aria-current="page" data-outcome="failed"/);
    for (const t of failed) assert.ok(onlyFailed.includes(t!.instanceId));
    assert.ok(!onlyFailed.includes(applied[0].instanceId));
    const onlyPending = await page("?outcome=pending");
    const next = onlyPending.match(
      /href="(\/admin\/actions\/[^"]+\?outcome=pending&amp;cursor=[^"]+)"/,
    );
    assert.ok(next, "the next page keeps the filter");
    const second = await page(
      next[1].replace(/^[^?]+/, "").replaceAll("&amp;", "&"),
    );
    const instanceOf = new Map(targets.map((t) => [t.id, t.instanceId]));
    const shown = (html: string, n: number) =>
      html.includes(instanceOf.get(pending.ids[n])!);
    assert.ok(shown(onlyPending, 0) && shown(onlyPending, 49));
    assert.ok(!shown(second, 0) && !shown(second, 49));
    assert.ok(shown(second, 50) && shown(second, 99));
  } finally {
    await app.close();
  }
});

Deno.test("outcome index: the key moves with each status change, and a discard removes it", async () => {
  const app = await createTestApp();
  try {
    const { action, targets } = await seedAction(app.kv, 5);
    const [a, b, c, d, e] = targets;
    assert.ok(
      (await app.kv.get(keys.targetOutcomesIndexed(action.id))).value,
      "a new target marks its action indexed",
    );
    const expect = async (byTarget: Record<string, TargetOutcome>) =>
      assert.deepEqual(
        await outcomeKeys(app.kv, action.id),
        Object.entries(byTarget).map(([id, o]) => `${o}/${id}`).sort(),
      );
    const want: Record<string, TargetOutcome> = Object.fromEntries(
      targets.map((t) => [t.id, "pending"]),
    );
    await expect(want);

    let cur = (await change(app.kv, a, (t) => asRunning(t, NOW)))!;
    await expect({ ...want, [a.id]: "running" });
    cur = (await change(app.kv, cur, (t) =>
      asPendingAgain(t, "timeout", NOW)))!;
    await expect(want);
    cur = (await change(app.kv, cur, (t) => asRunning(t, NOW + 1)))!;
    await change(app.kv, cur, (t) => asEnded(t, APPLIED, NOW + 2));
    want[a.id] = "applied";
    await expect(want);

    await change(app.kv, b, end(FAILED));
    want[b.id] = "failed";
    await change(app.kv, c, end(CANCELLED));
    want[c.id] = "cancelled";
    await change(app.kv, d, end(PINNED));
    want[d.id] = "skipped";
    await expect(want);

    await change(app.kv, e, () => null);
    delete want[e.id];
    await expect(want);
  } finally {
    await app.close();
  }
});

/** An atomic operation that only counts the mutations put into it. */
function countingOp(): { op: Deno.AtomicOperation; mutations: () => number } {
  let n = 0;
  const op = {
    check: () => op,
    set: () => (n++, op),
    delete: () => (n++, op),
    sum: () => (n++, op),
  } as unknown as Deno.AtomicOperation;
  return { op, mutations: () => n };
}

Deno.test("putTarget's costs: a new target costs MUTATIONS_PER_NEW_TARGET, a status change at most MUTATIONS_PER_TARGET_CHANGE, a discard MUTATIONS_PER_REMOVED_TARGET", () => {
  const action = makeAction({}, NOW);
  const t = makeTarget(action, {
    instanceId: "inst-cost",
    userId: "owner-1",
    sourceImageTag: "v1",
  });
  const cost = (prev: Target | null, next: Target | null, ownsLock = true) => {
    const c = countingOp();
    putTarget(c.op, prev, next, { ownsLock });
    return c.mutations();
  };
  assert.equal(cost(null, t), MUTATIONS_PER_NEW_TARGET);
  const running = asRunning(t, NOW);
  const changes: [Target, Target][] = [
    [t, running],
    [running, asPendingAgain(running, "timeout", NOW)],
    [running, asEnded(running, APPLIED, NOW)],
    [running, asEnded(running, FAILED, NOW)],
    [running, asEnded(running, CANCELLED, NOW)],
    [t, asEnded(t, CANCELLED, NOW)],
    [t, { ...t, stageIndex: 2 }],
  ];
  const costs = changes.map(([a, b]) => cost(a, b));
  assert.equal(Math.max(...costs), MUTATIONS_PER_TARGET_CHANGE);
  assert.equal(
    cost(asEnded(running, APPLIED, NOW), null, false),
    MUTATIONS_PER_REMOVED_TARGET,
  );
});

Deno.test("outcome filter: a bad outcome is a 400 naming the allowed ones, on the API, the progress and the page", async () => {
  const app = await createTestApp();
  try {
    const { action } = await seedAction(app.kv, 3);
    const res = await app.api(
      "GET",
      `/api/admin/scheduled-actions/${action.id}?outcome=broken`,
    );
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.match(body.error, /outcome/);
    for (const o of TARGET_OUTCOMES) assert.ok(body.error.includes(o), o);
    assert.deepEqual(body.issues.map((i: { path: string }) => i.path), [
      "outcome",
    ]);

    const progress = await app.api(
      "GET",
      `/api/admin/scheduled-actions/${action.id}/progress?outcome=done`,
    );
    assert.equal(progress.status, 400);
    assert.match((await progress.json()).error, /pending, running, applied/);

    const admin = await app.signIn({ admin: true });
    const page = await app.request(
      `/admin/actions/${action.id}?outcome=done`,
      { headers: { cookie: admin.cookie } },
    );
    assert.equal(page.status, 400);
    assert.match(await page.text(), /must be one of pending, running/);
  } finally {
    await app.close();
  }
});

Deno.test("outcome filter: an action written before the index is indexed once, on first use, and stays exact", async () => {
  const app = await createTestApp();
  try {
    const { action, targets } = await seedAction(app.kv, 450, {
      legacy: true,
    });
    // Status changes made after the index arrived give those targets their keys.
    const failed = await endSome(app.kv, targets, [3, 400], FAILED);
    // ...and ends written by the older version left none.
    for (const i of [5, 6, 300]) {
      const ended = asEnded(targets[i], FAILED, NOW);
      const op = app.kv.atomic().set(keys.target(ended.id), ended)
        .delete(keys.instancePendingTarget(ended.instanceId));
      addToCounter(op, action.id, "failed");
      assert.ok((await op.commit()).ok);
      failed.push(ended);
    }
    assert.equal(
      (await app.kv.get(keys.targetOutcomesIndexed(action.id))).versionstamp,
      null,
    );

    const got = await pagesOf(app, action.id, "failed", 2);
    assert.deepEqual(got.ids.sort(), failed.map((t) => t.id).sort());
    assert.ok((await app.kv.get(keys.targetOutcomesIndexed(action.id))).value);
    // Every target has exactly one key, naming its outcome now.
    const held = await outcomeKeys(app.kv, action.id);
    assert.equal(held.length, 450);
    const now = await Promise.all(
      targets.map(async (t) =>
        (await app.kv.get<Target>(keys.target(t.id))).value!
      ),
    );
    assert.deepEqual(held, now.map((t) => `${outcomeOf(t)}/${t.id}`).sort());
    assert.equal(
      (await pagesOf(app, action.id, "pending", 500)).ids.length,
      445,
    );
  } finally {
    await app.close();
  }
});

Deno.test("outcome index: a target ending while an older action is being indexed keeps one key, the right one", async () => {
  const app = await createTestApp();
  try {
    const { action, targets } = await seedAction(app.kv, 150, {
      legacy: true,
    });
    const victim = targets[42];
    let raced = false;
    // The status change lands between the backfill's read and its commit.
    const racing = new Proxy(app.kv, {
      get(target, prop) {
        if (prop === "getMany") {
          return async (list: Deno.KvKey[]) => {
            const got = await target.getMany(list);
            if (!raced && list.some((k) => k[1] === victim.id)) {
              raced = true;
              await change(target, victim, end(FAILED));
            }
            return got;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await ensureOutcomeIndex(racing, action.id);
    assert.ok(raced);
    const held = await outcomeKeys(app.kv, action.id);
    assert.equal(held.length, 150);
    assert.ok(held.includes(`failed/${victim.id}`));
    assert.ok(!held.includes(`pending/${victim.id}`));
  } finally {
    await app.close();
  }
});

Deno.test("outcome index: the retention purge removes an action's outcome keys and its marker with it", async () => {
  const app = await createTestApp();
  try {
    const { action, targets } = await seedAction(app.kv, 120);
    await endSome(app.kv, targets, targets.map((_, i) => i), APPLIED);
    const done = {
      ...action,
      status: "completed" as const,
      finishedAt: new Date(NOW).toISOString(),
    };
    assert.ok((await app.kv.set(keys.action(action.id), done)).ok);
    const purged = await purgeEndedActions(app.kv, {
      now: NOW + 2 * DAY_MS,
      retentionDays: 1,
    });
    assert.equal(purged.actions, 1);
    assert.equal(await countKeys(app.kv, keys.targetsByOutcome(action.id)), 0);
    assert.equal(
      (await app.kv.get(keys.targetOutcomesIndexed(action.id))).versionstamp,
      null,
    );
  } finally {
    await app.close();
  }
});

Deno.test("instances: 'all N matching' is exact at 12,000 matching, on /admin and in the schedule form", async () => {
  const app = await createTestApp();
  try {
    await putCatalogEntry(app.kv, "v-big", { openclawVersion: "9.9.9" });
    await putCatalogEntry(app.kv, "v-other", { openclawVersion: "1.0.0" });
    await seedInstances(app.kv, 12_000, { imageTag: "v-big", prefix: "big" });
    await seedInstances(app.kv, 30, { imageTag: "v-other", prefix: "other" });
    const admin = await app.signIn({ admin: true });
    const html = await (await app.request("/admin?tag=v-big", {
      headers: { cookie: admin.cookie },
    })).text();
    assert.match(html, /12,000 instances match/);
    assert.match(html, /Schedule for all 12,000 matching/);
    assert.match(html, /Page 1 of 240/);

    const choices = await getScheduleChoices(app.kv, [], {
      q: "",
      tag: "v-big",
      owner: "",
      status: "",
    });
    assert.equal(choices.match?.count, 12_000);
  } finally {
    await app.close();
  }
});

Deno.test("users page: each user's instance count is exact, 1,001 as 3, from one count each; '1,000+' past 1,000 only before the list is built", async () => {
  const app = await createTestApp();
  try {
    await putCatalogEntry(app.kv, "v1", { openclawVersion: "1.0.0" });
    const admin = await app.signIn({
      admin: true,
      email: "a-admin@example.com",
    });
    const few = await app.signIn({ email: "b-few@example.com" });
    const many = await app.signIn({ email: "c-many@example.com" });
    for (let i = 0; i < 3; i++) {
      await putInstance(app.kv, newId(), {
        name: `few ${i}`,
        ownerId: few.user.id,
        imageTag: "v1",
      });
    }
    await seedInstances(app.kv, 1_001, { ownerId: many.user.id });
    const usersPage = async () =>
      await (await app.request("/admin/users", {
        headers: { cookie: admin.cookie },
      })).text();
    let html = await usersPage();
    const countOf = (email: string) => {
      const row = html.split("<tr>").find((r) => r.includes(email));
      assert.ok(row, email);
      return row.match(/data-label="Instances">(?:<a [^>]*>)?([\d,]+\+?)</)
        ?.[1];
    };
    assert.equal(countOf("b-few@example.com"), "3");
    assert.equal(countOf("c-many@example.com"), "1,001");
    // A database whose list is not built yet counts up to 1,001 keys a user.
    await app.kv.delete(keys.instanceListReady());
    html = await usersPage();
    assert.equal(countOf("b-few@example.com"), "3");
    assert.equal(countOf("c-many@example.com"), "1,000+");
    assert.equal(
      await countKeys(app.kv, keys.instancesByOwner(many.user.id)),
      1_001,
    );
  } finally {
    await app.close();
  }
});
