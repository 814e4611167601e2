/**
 * The warning email's signed "Change the time" link: only in warnings of a
 * change owners may postpone; it leads to sign-in first, then to a page of
 * that owner's instance with the picker's offer; another owner, or a
 * tampered token, meets a 404.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import type { OutboxEmail } from "@/lib/channels/outbox.ts";

const HOUR = 3_600_000;
const LINK = new RegExp(`${ORIGIN}/postpone/[\\w.-]+`);

async function ownerWithBot(
  app: TestApp,
  name: string,
  timeZone?: string,
) {
  const { user, cookie, csrfToken } = await app.signIn({ name, timeZone });
  const bot = `${name.toLowerCase()}-${crypto.randomUUID().slice(0, 6)}`;
  await apiOk(app, "PUT", `/api/admin/instances/${bot}`, {
    name: `${name}'s bot`,
    ownerId: user.id,
    imageTag: "2030.1.0",
  });
  return { user, cookie, csrfToken, bot };
}

Deno.test("warning email: a signed Change the time link, for postponable changes only, to a page behind sign-in", async (t) => {
  const app = await createTestApp();
  try {
    await apiOk(app, "PUT", "/api/admin/catalog/2030.1.0", {
      openclawVersion: "1.0.0",
    });
    const maya = await ownerWithBot(app, "Maya", "Asia/Kolkata");
    const tom = await ownerWithBot(app, "Tom");
    const at = Date.now() + 3 * HOUR;
    await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [maya.bot],
      scheduledAt: new Date(at).toISOString(),
      noticeChannels: ["email", "webapp"],
      ownerMayPostpone: {
        until: new Date(at + 48 * HOUR).toISOString(),
        times: 1,
      },
    });
    await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [tom.bot],
      scheduledAt: new Date(at).toISOString(),
      noticeChannels: ["email"],
    });
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    const emails = (await listOutbox(app.kv)).items.filter((
      m,
    ): m is OutboxEmail => m.kind === "email");
    const to = (u: { email: string }) =>
      emails.find((e) => e.to === u.email.toLowerCase())!;
    const url = LINK.exec(to(maya.user).html)?.[0];

    await t.step("in the postponable change's email, html and text", () => {
      assert.ok(url, to(maya.user).html);
      assert.ok(to(maya.user).text.includes(`Change the time: ${url}`));
    });
    await t.step("not in an urgent change's email", () => {
      assert.doesNotMatch(to(tom.user).html, LINK);
      assert.doesNotMatch(to(tom.user).text, /Change the time/);
    });
    const path = new URL(url!).pathname;
    await t.step("signed out: to sign-in, and back", async () => {
      const res = await app.request(path, { redirect: "manual" });
      assert.equal(res.status, 303);
      assert.match(
        res.headers.get("location") ?? "",
        new RegExp(`next=${encodeURIComponent(path)}`),
      );
    });
    await t.step("the owner: the page with the offer", async () => {
      const res = await app.request(path, {
        headers: { cookie: maya.cookie },
      });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(
        html,
        /Change the time of Maya&#39;s bot|Change the time of Maya's bot/,
      );
      assert.match(html, /data-testid="postpone-panel"/);
      assert.match(html, /"allowed":true/);
    });
    await t.step(
      "the workspace offers the same page before its script runs",
      async () => {
        const res = await app.request(`/claw/${maya.bot}`, {
          headers: { cookie: maya.cookie },
        });
        const href = /<a href="(\/postpone\/[\w.-]+)">Change time<\/a>/.exec(
          await res.text(),
        )?.[1];
        assert.ok(href, "no Change time link on the workspace page");
        const page = await app.request(href, {
          headers: { cookie: maya.cookie },
        });
        assert.equal(page.status, 200);
        await page.body?.cancel();
        const urgent = await app.request(`/claw/${tom.bot}`, {
          headers: { cookie: tom.cookie },
        });
        assert.doesNotMatch(await urgent.text(), />Change time</);
      },
    );
    await t.step("without JavaScript: the form posts to the page", async () => {
      const post = (fields: Record<string, string>) =>
        app.request(path, {
          method: "POST",
          redirect: "manual",
          headers: {
            cookie: maya.cookie,
            origin: ORIGIN,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ _csrf: maya.csrfToken, ...fields }),
        });
      // Past the latest time allowed: refused, said plainly, nothing moved.
      const late = await post({
        postponeTo: "other",
        postponeOther: "2099-01-01T00:00",
        timeZone: "UTC",
      });
      assert.equal(late.status, 400, await late.clone().text());
      // In her own zone, as the page shows every time.
      assert.match(
        await late.text(),
        /The new time must be between \w{3}, \w{3} \d+, \d{4}, \d\d:\d\d IST and \w{3}, \w{3} \d+, \d{4}, \d\d:\d\d IST\./,
      );
      const when = new Date(at + 24 * HOUR);
      const wall = when.toISOString().slice(0, 16);
      const ok = await post({
        postponeTo: "other",
        postponeOther: wall,
        timeZone: "UTC",
      });
      assert.equal(ok.status, 303, await ok.text());
      const back = await app.request(ok.headers.get("location")!, {
        headers: { cookie: maya.cookie },
      });
      assert.match(await back.text(), /Postponed to /);
      const status = await app.request(`/api/instances/${maya.bot}/status`, {
        headers: { cookie: maya.cookie },
      });
      assert.equal(
        (await status.json()).scheduledAction.scheduledAt,
        `${wall}:00.000Z`,
      );
    });
    await t.step("another owner, or a tampered token: 404", async () => {
      const other = await app.request(path, {
        headers: { cookie: tom.cookie },
      });
      assert.equal(other.status, 404);
      await other.body?.cancel();
      const [sig, ...rest] = path.split("/").at(-1)!.split(".");
      const forged = `/postpone/${sig.slice(0, -2)}xx.${rest.join(".")}`;
      const bad = await app.request(forged, {
        headers: { cookie: maya.cookie },
      });
      assert.equal(bad.status, 404);
      await bad.body?.cancel();
    });
  } finally {
    await app.close();
  }
});
