/**
 * One message per owner: an owner with several affected bots gets one email
 * and one push per notice, listing them; a cancellation of some names those.
 * Driven through the app, with the outbox standing in for the providers.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, type TestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import {
  listOutbox,
  type OutboxEmail,
  type OutboxMessage,
} from "@/lib/channels/outbox.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { getActionView } from "@/lib/views/action_view.ts";

const HOUR = 3_600_000;

async function outbox(app: TestApp): Promise<OutboxMessage[]> {
  const out: OutboxMessage[] = [];
  let cursor: string | null = null;
  do {
    const page = await listOutbox(app.kv, { limit: 500, cursor });
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

Deno.test("owners with 1–5 bots each get one email and one push per notice, listing their bots", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    // 60 owners holding 1 to 5 bots: 180 bots, more than one dispatch group.
    const owners: { id: string; email: string; bots: string[] }[] = [];
    for (let o = 0; o < 60; o++) {
      const id = `bundle-owner-${String(o).padStart(2, "0")}`;
      const email = `${id}@example.test`;
      await apiOk(app, "PUT", `/api/admin/users/${id}`, { email });
      await addPushToken(app.kv, id, `ExponentPushToken[${id}]`);
      const bots: string[] = [];
      for (let b = 0; b <= o % 5; b++) {
        const bot = `${id}-bot-${b}`;
        await apiOk(app, "PUT", `/api/admin/instances/${bot}`, {
          name: `Bot ${o}.${b}`,
          ownerId: id,
          imageTag: "v1",
        });
        bots.push(bot);
      }
      owners.push({ id, email, bots });
    }
    const created = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: owners.flatMap((o) => o.bots),
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeChannels: ["email", "mobile_push", "webapp"],
    });
    assert.equal(created.targets.total, 180);
    const run = await apiOk(app, "POST", "/api/admin/notices/sweep");
    assert.equal(run.sent, 180 * 3);

    const messages = await outbox(app);
    const emails = messages.filter((m): m is OutboxEmail => m.kind === "email");
    const pushes = messages.filter((m) => m.kind === "push");
    assert.equal(emails.length, 60);
    assert.equal(pushes.length, 60);
    for (const owner of owners) {
      const mine = emails.filter((e) => e.to === owner.email);
      assert.equal(mine.length, 1, owner.email);
      const n = owner.bots.length;
      if (n === 1) {
        assert.match(
          mine[0].text,
          /Your KiloClaw bot Bot \d+\.0 will restart/,
        );
      } else {
        assert.match(
          mine[0].text,
          new RegExp(`Your ${n} KiloClaw bots Bot .* will restart`),
        );
        for (let b = 0; b < n; b++) {
          assert.ok(
            mine[0].text.includes(
              `Bot ${owner.id.slice(-2).replace(/^0/, "")}.${b}`,
            ),
            `${owner.email} lists bot ${b}`,
          );
        }
        const push = pushes.find((p) =>
          p.to === `ExponentPushToken[${owner.id}]`
        );
        assert.match(
          push!.kind === "push" ? push!.title : "",
          new RegExp(`^${n} of your bots`),
        );
      }
    }

    // Cancelling two of one owner's five bots tells that owner about those two, in one email.
    const five = owners.find((o) => o.bots.length === 5)!;
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${created.id}?targetLimit=500`,
    );
    const targetOf = (bot: string) =>
      detail.targets.items.find((t: { target: { instanceId: string } }) =>
        t.target.instanceId === bot
      ).target.id;
    for (const bot of five.bots.slice(0, 2)) {
      await apiOk(
        app,
        "POST",
        `/api/admin/scheduled-actions/${created.id}/targets/${
          targetOf(bot)
        }/cancel`,
      );
    }
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    const cancellations = (await outbox(app)).filter((m): m is OutboxEmail =>
      m.kind === "email" && m.to === five.email && /cancelled/i.test(m.subject)
    );
    assert.equal(cancellations.length, 1);
    const [c] = cancellations;
    assert.match(c.text, /your 2 KiloClaw bots Bot \S+ and Bot \S+ planned/);
    const name = (bot: string) =>
      `Bot ${bot.match(/owner-0?(\d+)-bot-(\d)/)!.slice(1).join(".")}`;
    assert.ok(c.text.includes(name(five.bots[0])));
    assert.ok(c.text.includes(name(five.bots[1])));
    assert.ok(!c.text.includes(name(five.bots[2])));
  } finally {
    await app.close();
  }
});

Deno.test("the action page leads from each bot's email notice to the one email its owner got", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const owner = `two-bots-${crypto.randomUUID().slice(0, 8)}`;
    await apiOk(app, "PUT", `/api/admin/users/${owner}`, {
      email: `${owner}@example.test`,
    });
    const bots = [`${owner}-a`, `${owner}-b`];
    for (const [i, bot] of bots.entries()) {
      await apiOk(app, "PUT", `/api/admin/instances/${bot}`, {
        name: `Bot ${i}`,
        ownerId: owner,
        imageTag: "v1",
      });
    }
    const created = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: bots,
      scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      noticeChannels: ["email"],
    });
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    const [email] = (await outbox(app)).filter((m) =>
      m.kind === "email" && m.to === `${owner}@example.test`
    );
    assert.ok(email);
    const view = await getActionView(app.kv, created.id, {
      pushViaOutbox: true,
    });
    const links = view.targets.map((t) =>
      t.notices.find((n) => n.channel === "email")?.outboxId
    );
    assert.deepEqual(links, [email.id, email.id]);
  } finally {
    await app.close();
  }
});
