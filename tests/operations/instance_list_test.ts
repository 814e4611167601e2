/**
 * The admin's instance list index (lib/kv/instance_list.ts): the page and
 * "all N matching" it gives are those a walk of every record gives; its
 * keys and counts move with every kind of instance change; a database from
 * before it is indexed once, exactly, even while instances change; and a
 * page of 10,000 instances reads a page's worth of KV entries.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { aroundCommits, countingKv } from "../helpers/kv.ts";
import { keys } from "@/lib/kv/keys.ts";
import {
  countRunningInstancesByTag,
  type InstanceFilter,
  matchingInstanceIds,
  putInstance,
  searchInstances,
  updateInstance,
} from "@/lib/kv/instances.ts";
import {
  countListed,
  ensureInstanceList,
  INSTANCE_LIST_MUTATIONS,
  instanceListReady,
  instanceListWrites,
  rangesOf,
} from "@/lib/kv/instance_list.ts";
import { embeddedController } from "@/lib/apply/embedded_controller.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { putUser } from "@/lib/kv/users.ts";
import type { Instance } from "@/lib/types.ts";

const NAMES = [
  "Zeta",
  "alpha",
  "Álvaro's bot",
  "beta",
  "Beta",
  "Émile",
  "emma",
  "10 bots",
  "9 lives",
  "_under",
  "zz top",
];

/** A mixed fleet: names of every case and accent, three tags, pins, some destroyed. */
async function seedMixed(app: TestApp, n: number): Promise<void> {
  for (const tag of ["v1", "v2", "v3"]) {
    await putCatalogEntry(app.kv, tag, { openclawVersion: tag });
  }
  for (let i = 0; i < n; i++) {
    await putInstance(app.kv, `inst-${String(i).padStart(3, "0")}`, {
      name: `${NAMES[i % NAMES.length]} ${i % 7}`,
      ownerId: `owner-${i % 5}`,
      imageTag: ["v1", "v2", "v3"][i % 3],
      pinnedImageTag: i % 4 === 0 ? ["v2", "v3", "v1"][i % 3] : null,
      status: i % 6 === 5 ? "destroyed" : "running",
    });
  }
}

const FILTERS: InstanceFilter[] = [
  {},
  { status: "running" },
  { status: "destroyed" },
  { tag: "v1" },
  { tag: "v2", status: "running" },
  { tag: "v3", status: "destroyed" },
  { tag: "nope" },
  { ownerId: "owner-1" },
  { ownerId: "owner-2", status: "destroyed" },
  { ownerId: "nobody" },
  { ownerId: "owner-new" },
  // A tag and an owner at once: the walk answers, the same either way.
  { tag: "v1", ownerId: "owner-3" },
];

/** Every page of a filter, as ids, and the total the first page gives. */
async function allPages(kv: Deno.Kv, f: InstanceFilter, pageSize: number) {
  const first = await searchInstances(kv, { ...f, page: 1, pageSize });
  const ids = first.items.map((i) => i.id);
  for (let page = 2; page <= first.pages; page++) {
    const p = await searchInstances(kv, { ...f, page, pageSize });
    assert.equal(p.total, first.total);
    ids.push(...p.items.map((i) => i.id));
  }
  return { total: first.total, pages: first.pages, ids };
}

/** The same answers with the index and with a walk of the records (the marker taken away). */
async function assertIndexAgreesWithWalk(kv: Deno.Kv) {
  assert.ok(await instanceListReady(kv));
  const indexed = [];
  for (const f of FILTERS) {
    indexed.push({
      pages: await allPages(kv, f, 7),
      match: await matchingInstanceIds(kv, f, 10_000),
    });
  }
  const marker = await kv.get(keys.instanceListReady());
  await kv.delete(keys.instanceListReady());
  try {
    for (const [i, f] of FILTERS.entries()) {
      const walked = await allPages(kv, f, 7);
      const label = JSON.stringify(f);
      assert.deepEqual(indexed[i].pages, walked, `${label}: pages`);
      assert.equal(new Set(walked.ids).size, walked.ids.length, label);
      const m = await matchingInstanceIds(kv, f, 10_000);
      assert.equal(indexed[i].match.total, m.total, `${label}: total`);
      assert.deepEqual(
        [...indexed[i].match.ids].sort(),
        [...m.ids].sort(),
        `${label}: all matching`,
      );
    }
  } finally {
    await kv.set(keys.instanceListReady(), marker.value);
  }
}

/** Each count equal to the keys it counts, and no key left over for a record that moved. */
async function assertCountsAreKeys(kv: Deno.Kv) {
  const counted = new Map<string, number>();
  for await (const e of kv.list({ prefix: keys.instancesListedAll() })) {
    const k = JSON.stringify(keys.instanceListCountFromListed(e.key));
    counted.set(k, (counted.get(k) ?? 0) + 1);
    const id = e.key.at(-1) as string;
    const inst = (await kv.get<Instance>(keys.instance(id))).value!;
    assert.ok(e.key.includes(inst.status), `${id}'s key has its status`);
  }
  for await (
    const e of kv.list<Deno.KvU64>({ prefix: keys.instanceListCounts() })
  ) {
    const k = JSON.stringify(e.key);
    assert.equal(Number(e.value.value), counted.get(k) ?? 0, k);
    counted.delete(k);
  }
  assert.deepEqual([...counted.keys()], [], "keys without a count");
}

Deno.test("instance list: every filter's pages and 'all matching' are those a walk of the records gives", async () => {
  const app = await createTestApp();
  try {
    await seedMixed(app, 120);
    await assertIndexAgreesWithWalk(app.kv);
    await assertCountsAreKeys(app.kv);
    // Known order: without case or accents, then by id.
    const page = await searchInstances(app.kv, { tag: "v1", pageSize: 200 });
    const names = page.items.map((i) => i.name);
    const where = (start: string) =>
      names.flatMap((n, i) => n.startsWith(start) ? [i] : []);
    assert.ok(names[0].startsWith("10 bots"), names[0]);
    assert.ok(
      Math.max(...where("alpha")) < Math.min(...where("Álvaro")) &&
        Math.max(...where("Álvaro")) <
          Math.min(...where("beta"), ...where("Beta")) &&
        Math.max(...where("emma")) < Math.min(...where("Zeta")),
      names.join(", "),
    );
    // "beta" and "Beta" are one name to the list: they interleave, by id.
    const betas = page.items.filter((i) =>
      i.name.toLowerCase().startsWith("beta")
    );
    assert.ok(betas.some((b) => b.name.startsWith("B")));
    assert.ok(betas.some((b) => b.name.startsWith("b")));
    // Pinned to v1 but running v3: in v1's list, not in v1's running count.
    const pinned = page.items.find((i) => i.imageTag !== "v1");
    assert.equal(pinned?.pinnedImageTag, "v1");
    let running = 0;
    for await (const e of app.kv.list<Instance>({ prefix: keys.instances() })) {
      if (e.value.imageTag === "v1" && e.value.status === "running") running++;
    }
    assert.equal(await countRunningInstancesByTag(app.kv, "v1"), running);
  } finally {
    await app.close();
  }
});

Deno.test("instance list: renames, version changes, pins, destroys and a new owner move the keys and counts", async () => {
  const app = await createTestApp();
  try {
    await seedMixed(app, 60);
    const controller = embeddedController(app.kv);
    const all = await searchInstances(app.kv, { pageSize: 200 });
    for (const [n, i] of all.items.entries()) {
      if (n % 5 === 0) {
        await updateInstance(
          app.kv,
          i.id,
          (x) => ({ ...x, name: `Renamed ${n}` }),
        );
      } else if (n % 5 === 1 && i.status === "running") {
        const res = await controller.changeVersion(i, "v9", {
          actionId: "a",
          targetId: "t",
          removePin: true,
        });
        assert.ok(res.ok);
      } else if (n % 5 === 2) {
        await updateInstance(
          app.kv,
          i.id,
          (x) => ({ ...x, pinnedImageTag: "v2" }),
        );
      } else if (n % 5 === 3) {
        await putInstance(app.kv, i.id, { ...i, status: "destroyed" });
      } else if (n % 10 === 4) {
        // Handed to another owner.
        await putInstance(app.kv, i.id, { ...i, ownerId: "owner-new" });
      } else {
        const res = await controller.restart(i, {
          actionId: "a",
          targetId: "t",
        });
        assert.ok(res.ok || i.status === "destroyed");
      }
    }
    await assertCountsAreKeys(app.kv);
    await assertIndexAgreesWithWalk(app.kv);
    const v9 = await searchInstances(app.kv, { tag: "v9", pageSize: 200 });
    assert.ok(v9.total > 0);
    assert.ok(v9.items.every((i) => i.imageTag === "v9"));
    assert.equal(await countRunningInstancesByTag(app.kv, "v9"), v9.total);
    const renamed = await searchInstances(app.kv, { pageSize: 200 });
    assert.ok(renamed.items.some((i) => i.name === "Renamed 0"));
    const handed = await searchInstances(app.kv, { ownerId: "owner-new" });
    assert.equal(handed.total, 6);
    assert.ok(handed.items.every((i) => i.ownerId === "owner-new"));
  } finally {
    await app.close();
  }
});

Deno.test("instance list: a database from before it is walked until it is built once, exactly, while instances change", async () => {
  const app = await createTestApp();
  try {
    // Records and their older indexes only, as a database from before the list holds them.
    await app.kv.delete(keys.instanceListReady());
    const at = new Date().toISOString();
    const made: Instance[] = [];
    for (let i = 0; i < 400; i += 50) {
      const op = app.kv.atomic();
      for (let j = i; j < i + 50; j++) {
        const inst: Instance = {
          id: `old-${String(j).padStart(3, "0")}`,
          name: `${NAMES[j % NAMES.length]} ${j}`,
          ownerId: `owner-${j % 9}`,
          imageTag: j % 2 ? "v1" : "v2",
          pinnedImageTag: null,
          status: j % 10 === 9 ? "destroyed" : "running",
          lastRestartAt: null,
          createdAt: at,
          updatedAt: at,
        };
        made.push(inst);
        op.set(keys.instance(inst.id), inst)
          .set(keys.instanceByOwner(inst.ownerId, inst.id), null)
          .set(keys.instanceByTag(inst.imageTag, inst.id), null);
      }
      assert.ok((await op.commit()).ok);
    }
    // Before it is built: the walk answers, exactly.
    assert.equal(await instanceListReady(app.kv), false);
    const walked = await searchInstances(app.kv, { tag: "v1", pageSize: 10 });
    assert.equal(walked.total, 200);
    assert.equal(await countRunningInstancesByTag(app.kv, "v1"), 160);
    assert.equal(await countRunningInstancesByTag(app.kv, "v2"), 200);

    // Built while instances change: at every commit of the build, one more
    // of 120 instances moves from v1 to v3 or is renamed first: a part's
    // check fails and the part is read again; a count's check fails and
    // the counts are counted again.
    let moved = 0;
    let next = 0;
    const countCommits: number[] = [];
    let commits = 0;
    const changeOne = async () => {
      if (next >= 120) return;
      // Spread over the fleet, so most parts commit at the first try.
      const inst = made[(next++ * 37) % made.length];
      await updateInstance(
        app.kv,
        inst.id,
        (x) =>
          x.imageTag === "v1"
            ? { ...x, imageTag: "v3" }
            : { ...x, name: `again ${x.name}` },
      );
      if (inst.imageTag === "v1") moved++;
    };
    const interleaved = aroundCommits(app.kv, async (commit, sets) => {
      commits++;
      if (sets.some(([, value]) => value instanceof Deno.KvU64)) {
        countCommits.push(commits);
      }
      await changeOne();
      return await commit();
    });
    await ensureInstanceList(interleaved);
    while (next < 120) await changeOne();
    // More count commits than counts: some were counted again.
    const distinctCounts = new Set<string>();
    for await (
      const e of app.kv.list({ prefix: keys.instanceListCounts() })
    ) distinctCounts.add(JSON.stringify(e.key));
    assert.ok(
      countCommits.length > distinctCounts.size,
      `${countCommits.length} count commits for ${distinctCounts.size} counts`,
    );
    assert.ok(await instanceListReady(app.kv));
    assert.ok(moved > 30, `${moved} moved`);
    await assertCountsAreKeys(app.kv);
    await assertIndexAgreesWithWalk(app.kv);
    const v1 = await searchInstances(app.kv, { tag: "v1", pageSize: 10 });
    assert.equal(v1.total, 200 - moved);
    assert.equal(
      (await searchInstances(app.kv, { tag: "v3", pageSize: 10 })).total,
      moved,
    );
  } finally {
    await app.close();
  }
});

Deno.test("instance list: the page of 10,000 instances reads a page of KV entries, filtered by tag or not", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({ admin: true, email: "a@example.com" });
    await putCatalogEntry(app.kv, "v1", { openclawVersion: "1" });
    const at = new Date().toISOString();
    for (let i = 0; i < 10_000; i += 80) {
      const op = app.kv.atomic();
      for (let j = i; j < i + 80; j++) {
        const inst: Instance = {
          id: `i-${String(j).padStart(5, "0")}`,
          name: `Bot ${String(9_999 - j).padStart(5, "0")}`,
          ownerId: admin.user.id,
          imageTag: "v1",
          pinnedImageTag: null,
          status: "running",
          lastRestartAt: null,
          createdAt: at,
          updatedAt: at,
        };
        op.set(keys.instance(inst.id), inst);
        instanceListWrites(op, null, inst);
      }
      assert.ok((await op.commit()).ok);
    }
    const counted = countingKv(app.kv);
    app.ctx.kv = counted.kv;
    for (const path of ["/admin", "/admin?tag=v1&status=running"]) {
      counted.reset();
      const res = await app.request(path, {
        headers: { cookie: admin.cookie },
      });
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.ok(html.includes("Bot 00000"), `${path}: the first by name`);
      assert.ok(html.includes("10,000"), `${path}: the exact count`);
      assert.ok(
        counted.reads() < 1_000,
        `${path}: ${counted.reads()} KV entries read`,
      );
    }
  } finally {
    await app.close();
  }
});

Deno.test("instance list: one write's keys and counts stay within INSTANCE_LIST_MUTATIONS", () => {
  let mutations = 0;
  const op = {
    set() {
      mutations++;
      return op;
    },
    delete() {
      mutations++;
      return op;
    },
    sum() {
      mutations++;
      return op;
    },
  } as unknown as Deno.AtomicOperation;
  const a: Instance = {
    id: "x",
    name: "A",
    ownerId: "o",
    imageTag: "v1",
    pinnedImageTag: "v2",
    status: "running",
    lastRestartAt: null,
    createdAt: "",
    updatedAt: "",
  };
  instanceListWrites(op, a, {
    ...a,
    name: "B",
    imageTag: "v3",
    pinnedImageTag: "v4",
    status: "destroyed",
  });
  assert.equal(mutations, INSTANCE_LIST_MUTATIONS);
  mutations = 0;
  instanceListWrites(op, a, { ...a, lastRestartAt: "now" });
  assert.equal(mutations, 0, "a restart moves nothing");
});

Deno.test("instance list: a text search finds by name, id, tag, pin, owner id and the owner's name or email, across owners and within one", async () => {
  const app = await createTestApp();
  try {
    await seedMixed(app, 120);
    for (let k = 0; k < 5; k++) {
      await putUser(app.kv, `owner-${k}`, {
        email: `owner-${k}@example.test`,
        name: `Olu Owner ${k}`,
      });
    }
    const total = async (f: InstanceFilter) =>
      (await searchInstances(app.kv, { ...f, pageSize: 200 })).total;
    const everywhere = async (query: string) => {
      const page = await total({ query });
      const all = await matchingInstanceIds(app.kv, { query }, 10_000);
      assert.equal(all.total, page, query);
      assert.equal(all.ids.length, page, query);
      return page;
    };
    assert.equal(await everywhere("olu owner 3"), 24, "the owner's name");
    assert.equal(await everywhere("OWNER-2@EXAMPLE"), 24, "the owner's email");
    assert.equal(await everywhere("owner-4"), 24, "the owner's id");
    assert.equal(await everywhere("inst-01"), 10, "the instance's id");
    // v3 run (i % 3 = 2: 40) or pinned (i ≡ 4 mod 12: 10).
    assert.equal(await everywhere("v3"), 50, "the tag or the pin");
    assert.equal(await everywhere("émile"), 11, "the name");
    assert.equal(await everywhere("nobody at all"), 0);
    // Within one owner: their 24, and what the text picks among them.
    assert.equal(await total({ ownerId: "owner-1", query: "owner-1@" }), 24);
    assert.equal(await total({ ownerId: "owner-1", query: "alpha" }), 3);
    assert.equal(await total({ ownerId: "owner-1", query: "olu owner 2" }), 0);
  } finally {
    await app.close();
  }
});

Deno.test("instance list: a list built before owners had theirs is built again once, and each owner's count is then exact", async () => {
  const app = await createTestApp();
  try {
    await seedMixed(app, 60);
    // As the first version of the list left it: no owner lists, an older marker.
    for await (const e of app.kv.list({ prefix: keys.instancesListedAll() })) {
      if (e.key[1] === "owner") await app.kv.delete(e.key);
    }
    for await (const e of app.kv.list({ prefix: keys.instanceListCounts() })) {
      if (e.key[1] === "owner") await app.kv.delete(e.key);
    }
    await app.kv.set(keys.instanceListReady(), { at: "2026-12-07T00:00:00Z" });
    assert.equal(await instanceListReady(app.kv), false);
    // Meanwhile an owner's page walks their instances.
    assert.equal(
      (await searchInstances(app.kv, { ownerId: "owner-1" })).total,
      12,
    );
    await ensureInstanceList(app.kv);
    assert.ok(await instanceListReady(app.kv));
    await assertCountsAreKeys(app.kv);
    await assertIndexAgreesWithWalk(app.kv);
    for (let k = 0; k < 5; k++) {
      assert.equal(
        await countListed(app.kv, rangesOf({ ownerId: `owner-${k}` })),
        12,
        `owner-${k}`,
      );
    }
  } finally {
    await app.close();
  }
});
