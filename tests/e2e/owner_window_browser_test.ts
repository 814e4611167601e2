/**
 * Owners' windows and postponing, in Chromium, with the app's clock moved by
 * the test (never the wall): an owner in Kolkata sets a window (Tuesday
 * 02:00, 3 h) on /settings; the admin schedules a restart "in each owner's
 * maintenance window" next week through the form, owners allowed to
 * postpone; the owner's banner says Tuesday 02:00 IST; she postpones to
 * Thursday from the banner; the apply restarts her bot on Thursday and the
 * others at their own times. axe finds nothing at 1280 and 375 px.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import {
  afterReview,
  expectAccessible,
  hydrated,
  reviewReady,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { getInstance } from "@/lib/kv/instances.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { putOwnerSettings } from "@/lib/owners/settings.ts";
import { applyTick } from "@/lib/jobs.ts";
import { newId } from "@/lib/ids.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";

// Wednesday 2030-01-02: "next week" runs from Monday 2030-01-07.
const START = Date.parse("2030-01-02T00:00:00Z");
const TOM_AT = "2030-01-07T00:00:00.000Z"; // no window: the earliest time
const PRIYA_AT = "2030-01-07T20:30:00.000Z"; // Tue 02:00 in Kolkata
const LENA_AT = "2030-01-09T08:00:00.000Z"; // Wed 09:00 in Berlin
const PRIYA_POSTPONED = "2030-01-09T20:30:00.000Z"; // Thu 02:00 in Kolkata

Deno.test({
  name:
    "browser: a window set in Kolkata, a schedule into owners' windows, the banner's Change time to Thursday, each applied at its own time; axe at 1280 and 375 px",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    let now = START;
    const app = await createTestApp({ context: { now: () => now } });
    const admin = await app.signIn({ admin: true, name: "Ada Admin" });
    const priya = await app.signIn({ name: "Priya Raman" });
    const tom = await app.signIn({ name: "Tom Okafor" });
    const lena = await app.signIn({ name: "Lena Vogel" });
    await putOwnerSettings(app.kv, lena.user.id, {
      timeZone: "Europe/Berlin",
      maintenanceWindow: { days: ["wed"], startHour: 9, lengthHours: 2 },
      channels: { email: true, mobile_push: true },
      quietHours: null,
    }, now);
    await putCatalogEntry(app.kv, "2030.1.0", { openclawVersion: "1.0.0" });
    const bots = { priya: newId(), tom: newId(), lena: newId() };
    for (
      const [who, ownerId] of [
        ["priya", priya.user.id],
        ["tom", tom.user.id],
        ["lena", lena.user.id],
      ] as const
    ) {
      await putInstance(app.kv, bots[who], {
        name: `${who[0].toUpperCase()}${who.slice(1)}'s bot`,
        ownerId,
        imageTag: "2030.1.0",
      });
    }

    await withBrowser(app, async (origin, browser) => {
      // The owner sets her window on /settings, from Kolkata.
      const ownerCtx = await signedIn(browser, origin, priya.cookie, {
        timezoneId: "Asia/Kolkata",
      });
      const owner = await ownerCtx.newPage();
      const ownerErrors = watch(owner);
      await owner.goto(`${origin}/settings`);
      await hydrated(owner);
      await owner.getByLabel("In a window I choose").check();
      await owner.getByLabel("Tuesday").check();
      await owner.getByLabel("Starts at").selectOption({ label: "02:00" });
      await owner.getByLabel("Length").selectOption({ label: "3 hours" });
      await owner.getByRole("button", { name: "Save settings" }).click();
      await owner.getByText("Settings saved.").waitFor();

      // The admin schedules into owners' windows through the form.
      const adminCtx = await signedIn(browser, origin, admin.cookie, {
        timezoneId: "UTC",
      });
      const form = await adminCtx.newPage();
      const adminErrors = watch(form);
      await form.goto(
        `${origin}/admin/actions/new?${
          Object.values(bots).map((id) => `instanceId=${id}`).join("&")
        }`,
      );
      await hydrated(form);
      await reviewReady(form);
      await form.getByLabel(/In each owner's maintenance window/).check();
      await form.locator('input[name="scheduledAt"]').fill("2030-01-07T00:00");
      await form.locator('input[name="windowDeadline"]').fill(
        "2030-01-13T23:00",
      );
      await form.getByLabel(/Yes, to a later time/).check();
      await form.locator('input[name="postponeUntil"]').fill(
        "2030-01-16T00:00",
      );
      await form.locator('input[name="postponeTimes"]').fill("2");
      await form.getByLabel("Hours of notice").fill("24");
      await afterReview(
        form,
        () => form.getByRole("button", { name: "Review", exact: true }).click(),
      );
      const review = form.getByTestId("review-windows");
      await review.waitFor();
      const days = await form.getByTestId("review-window-day").allInnerTexts();
      assert.deepEqual(
        days.map((d) => d.replace(/\s+/g, " ").trim()),
        [
          "Mon, Jan 7 2 00:00 (1), 20:30 (1)",
          "Wed, Jan 9 1 08:00 (1)",
        ],
      );
      assert.match(
        await form.getByTestId("review-fell-back").innerText(),
        /^1 instance fell back to the earliest time/,
      );
      // Owners' times are not waves: no wave plan, no estimates, no draw.
      assert.equal(await form.getByTestId("review-waves").count(), 0);
      await expectAccessible(form, "the review of owners' windows at 1280");
      await form.getByTestId("schedule").click();
      await form.waitForURL(/\/admin\/actions\/[\w-]+\?/);
      const actionId = new URL(form.url()).pathname.split("/").at(-1)!;

      // A day before her window, Priya's banner gives her own time.
      now = Date.parse("2030-01-07T00:00:30Z") - 60_000;
      const swept = await app.api("POST", "/api/admin/notices/sweep");
      assert.equal(swept.status, 200);
      await owner.goto(`${origin}/claw/${bots.priya}`);
      const banner = owner.getByTestId("workspace-banner");
      await banner.getByText(/Tue, Jan 8, 2030, 02:00 IST/).waitFor();
      for (const width of [1280, 375]) {
        await owner.setViewportSize({ width, height: 900 });
        await owner.getByRole("button", { name: "Change time" }).click();
        await owner.getByRole("group", { name: "Postpone to" }).waitFor();
        await expectAccessible(owner, `the postpone picker at ${width}`);
        if (width === 1280) {
          await owner.getByRole("button", { name: "Keep the time" }).click();
        }
      }
      // Her next window slot is offered first; she picks Thursday instead.
      assert.match(
        await owner.getByLabel(/your maintenance window/).first()
          .evaluate((el) => el.parentElement!.textContent ?? ""),
        /Tue, Jan 15, 2030, 02:00 IST/,
      );
      // A time past the latest allowed is refused in her own zone, by the
      // page itself rather than the browser's bubble.
      await owner.getByLabel(/^Date and time/).fill("2030-01-20T02:00");
      await owner.getByRole("button", { name: "Postpone", exact: true })
        .click();
      assert.match(
        await owner.getByTestId("postpone-error").innerText(),
        /^The new time must be between .* IST and Wed, Jan 16, 2030, 05:30 IST\.$/,
      );
      await owner.getByLabel(/^Date and time/).fill("2030-01-10T02:00");
      await owner.getByRole("button", { name: "Postpone", exact: true })
        .click();
      await owner.getByTestId("postpone-done").getByText(
        /Postponed to Thu, Jan 10, 2030, 02:00 IST/,
      ).waitFor();
      await banner.getByText(/Thu, Jan 10, 2030, 02:00 IST/).waitFor();
      await expectAccessible(owner, "the banner after postponing at 375");
      // The action page's owners' say is in the admin's own zone, like the rest of it.
      const kolkataAdmin = await signedIn(browser, origin, admin.cookie, {
        timezoneId: "Asia/Kolkata",
      });
      const actionPage = await kolkataAdmin.newPage();
      await actionPage.goto(`${origin}/admin/actions/${actionId}`);
      await actionPage.locator(".action-live[data-enhanced]").waitFor();
      const say = actionPage.getByTestId("owner-say");
      await say.getByText(/Thu, Jan 10, 2030, 02:00 IST: 1 instance/).waitFor();
      assert.doesNotMatch(await say.innerText(), /UTC/);
      await kolkataAdmin.close();
      assert.deepEqual(ownerErrors, []);
      assert.deepEqual(adminErrors, []);
      await ownerCtx.close();
      await adminCtx.close();

      // The apply, the clock moved: each at its own time, Priya's on Thursday.
      const restarted = async () => {
        const out: string[] = [];
        for (const [who, id] of Object.entries(bots)) {
          if ((await getInstance(app.kv, id))?.lastRestartAt) out.push(who);
        }
        return out.sort();
      };
      for (
        const [at, expected] of [
          [TOM_AT, ["tom"]],
          [PRIYA_AT, ["tom"]],
          [LENA_AT, ["lena", "tom"]],
          [PRIYA_POSTPONED, ["lena", "priya", "tom"]],
        ] as const
      ) {
        now = Date.parse(at) + 30_000;
        await applyTick(app.ctx);
        assert.deepEqual(await restarted(), expected, `at ${at}`);
      }
      const res = await app.api(
        "GET",
        `/api/admin/scheduled-actions/${actionId}`,
      );
      assert.equal((await res.json()).action.status, "completed");
    });
  },
});

Deno.test({
  name:
    "browser: the email's Change the time page — its banner and picker both in the browser's zone, the banner showing the new time once postponed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const now = START;
    const app = await createTestApp({ context: { now: () => now } });
    // Stored in New York, reading in Los Angeles.
    const tom = await app.signIn({ name: "Tom Okafor" });
    await app.api("PUT", `/api/admin/users/${tom.user.id}`, {
      email: tom.user.email,
      name: "Tom Okafor",
      timeZone: "America/New_York",
    });
    await putCatalogEntry(app.kv, "2030.1.0", { openclawVersion: "1.0.0" });
    const bot = newId();
    await putInstance(app.kv, bot, {
      name: "Tom's bot",
      ownerId: tom.user.id,
      imageTag: "2030.1.0",
    });
    const res = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [bot],
      scheduledAt: "2030-01-02T20:00:00.000Z",
      noticeChannels: ["email", "webapp"],
      ownerMayPostpone: { until: "2030-01-06T00:00:00.000Z", times: 1 },
    });
    assert.equal(res.status, 201, await res.text());
    assert.equal(
      (await app.api("POST", "/api/admin/notices/sweep")).status,
      200,
    );
    const email = (await listOutbox(app.kv)).items.find((m) =>
      m.kind === "email" && /Change the time/.test(m.text)
    );
    const link = /\/postpone\/[\w.-]+/.exec(
      email?.kind === "email" ? email.text : "",
    )?.[0];
    assert.ok(link, "the warning carries the Change the time link");

    await withBrowser(app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, tom.cookie, {
        width: 375,
        timezoneId: "America/Los_Angeles",
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}${link}`);
      await page.getByTestId("postpone-panel").and(
        page.locator("[data-enhanced]"),
      ).waitFor();
      const panel = await page.getByTestId("postpone-panel").innerText();
      assert.match(panel, /restart at Wed, Jan 2, 2030, 12:00 PST/);
      assert.match(
        panel,
        /Any time from .* PST to Sat, Jan 5, 2030, 16:00 PST/,
      );
      assert.doesNotMatch(panel, /EST/);

      await page.getByLabel(/^Date and time/).fill("2030-01-03T09:00");
      await page.getByRole("button", { name: "Postpone", exact: true })
        .click();
      await page.getByTestId("postpone-done").waitFor();
      assert.match(
        await page.locator(".banner").innerText(),
        /restart at Thu, Jan 3, 2030, 09:00 PST/,
      );
      await expectAccessible(page, "the Change the time page at 375 px");
      assert.deepEqual(errors, []);
      await ctx.close();
    });
  },
});
