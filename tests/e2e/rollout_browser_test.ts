/**
 * A rollout as people see it, in Chromium: the schedule form's "Roll out in
 * waves" and its review (each wave's size and planned time); the action page
 * with the waves as a timeline, their health, the paused line and Resume /
 * Abort / Roll back; the owner's banner turning "on hold" on its own. axe at
 * 1280 and 375 px.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import {
  afterReview,
  expectAccessible,
  expectAccessibleWithoutScripts,
  hydrated,
  NEW_TAG,
  OLD_TAG,
  reviewReady,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { apiOk, createTestApp, type TestApp } from "../helpers/app.ts";
import { clock, seedInstances } from "../helpers/scheduling.ts";
import { applyTick } from "@/lib/jobs.ts";
import { toZonedInput } from "@/lib/format.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { keys } from "@/lib/kv/keys.ts";
import { putStage } from "@/lib/apply/stage_status.ts";
import { addToStageCounter } from "@/lib/kv/actions.ts";
import {
  DEFAULT_CONCURRENCY,
  expectedApplyMinutes,
} from "@/lib/scheduler/waves.ts";
import type { ScheduledAction, Stage } from "@/lib/types.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;

async function rolloutApp() {
  const app = await createTestApp();
  await putCatalogEntry(app.kv, OLD_TAG, { openclawVersion: "1.8.2" });
  await putCatalogEntry(app.kv, NEW_TAG, { openclawVersion: "1.9.0" });
  const admin = await app.signIn({ admin: true, name: "Ada Admin" });
  return { app, admin };
}

/** The review's waves: size and planned instant of each. */
async function reviewedWaves(page: Page) {
  return await page.getByTestId("review-wave").evaluateAll((items) =>
    items.map((li) => ({
      text: li.querySelector("strong")?.textContent ?? "",
      at: li.querySelector("time")?.getAttribute("datetime") ?? "",
    }))
  );
}

async function noSidewaysScroll(page: Page) {
  assert.ok(
    await page.evaluate(() =>
      document.documentElement.scrollWidth <= globalThis.innerWidth
    ),
    "no sideways scrolling",
  );
}

Deno.test({
  name:
    "browser: the schedule form's waves and their review — sizes and times per wave, presets, rows, a wave's error beside it, 375 px",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { app, admin } = await rolloutApp();
    const instances = await seedInstances(app.kv, 20, { imageTag: OLD_TAG });
    const query = new URLSearchParams([
      ["type", "version_change"],
      ...instances.map((i): [string, string] => ["instanceId", i.id]),
    ]);
    await withBrowser(app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin/actions/new?${query}`);
      await hydrated(page);
      await reviewReady(page);
      // Off by default: one wave, no waves in the review.
      assert.equal(await page.getByTestId("wave-fields").isVisible(), false);
      assert.equal(await page.getByTestId("review-waves").count(), 0);

      await afterReview(
        page,
        () => page.getByLabel("Roll out in waves").check(),
      );
      // The first preset: 1 %, 25 %, the rest; an hour's soak after each of the first two.
      let waves = await reviewedWaves(page);
      assert.deepEqual(waves.map((w) => w.text), [
        "Wave 1: 1 instance",
        "Wave 2: 5 instances",
        "Wave 3: 14 instances",
      ]);
      const [t1, t2, t3] = waves.map((w) => Date.parse(w.at));
      const m = (n: number) => expectedApplyMinutes(n, DEFAULT_CONCURRENCY);
      assert.equal(t2 - t1, (m(1) + 60) * MINUTE);
      assert.equal(t3 - t2, (m(5) + 60) * MINUTE);
      assert.match(
        await page.getByTestId("review-waves-how").innerText(),
        /A wave starts only once the gate of the one before passed \(at most 5 % failed and 5 % unhealthy\)/,
      );
      // Each wave names a few of its instances.
      assert.match(
        await page.getByTestId("review-wave-sample").nth(2).innerText(),
        /^Sample: (claw \d+, ){4}claw \d+ and 9 more$/,
      );
      await expectAccessible(page, "the schedule form with waves");

      // Another preset, one more wave, then one fewer.
      await afterReview(
        page,
        () => page.getByRole("button", { name: "Half, then the rest" }).click(),
      );
      waves = await reviewedWaves(page);
      assert.deepEqual(waves.map((w) => w.text), [
        "Wave 1: 10 instances",
        "Wave 2: 10 instances",
      ]);
      await page.getByRole("button", { name: "Add a wave" }).click();
      await page.getByTestId("wave-row-3").waitFor();
      await page.getByLabel("Remove wave 3").click();
      await page.getByTestId("wave-row-3").waitFor({ state: "detached" });

      // A count in wave 1, and a soak over a week: said beside wave 1's soak.
      await page.locator("#f-wave-0-kind").selectOption("count");
      await page.locator("#f-wave-0-amount").fill("3");
      await page.locator("#f-wave-0-soak").fill("20000");
      await page.getByRole("button", { name: "Review", exact: true }).click();
      await page.locator("#error-summary").getByText(/Wave 1's soak: at most/)
        .waitFor();
      assert.match(
        await page.getByTestId("wave-row-1").getByTestId("wave-error")
          .innerText(),
        /at most 10080 minutes/,
      );
      assert.equal(
        await page.locator("#f-wave-0-soak").getAttribute("aria-invalid"),
        "true",
      );

      await page.locator("#f-wave-0-soak").fill("45");
      await afterReview(
        page,
        () => page.getByRole("button", { name: "Review", exact: true }).click(),
      );
      waves = await reviewedWaves(page);
      assert.deepEqual(waves.map((w) => w.text), [
        "Wave 1: 3 instances",
        "Wave 2: 17 instances",
      ]);
      await page.getByTestId("schedule").click();
      await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/);
      await hydrated(page, ".action-live[data-enhanced]");
      const planned = await page.getByTestId("waves").locator("li time")
        .evaluateAll((ts) => ts.map((t) => t.getAttribute("datetime")));
      assert.deepEqual(planned, waves.map((w) => w.at));
      assert.deepEqual(errors, []);

      // At 375 px the rows wrap within the screen.
      const small = await signedIn(browser, origin, admin.cookie, {
        width: 375,
      });
      const phone = await small.newPage();
      await phone.goto(`${origin}/admin/actions/new?${query}`);
      await hydrated(phone);
      await reviewReady(phone);
      await afterReview(
        phone,
        () => phone.getByLabel("Roll out in waves").check(),
      );
      await noSidewaysScroll(phone);
      await expectAccessible(phone, "the schedule form with waves at 375 px");
    });
  },
});

/** A rollout stopped after its canary, written as the engine writes it. */
async function pausedRollout(app: TestApp, ids: string[]) {
  const { id } = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
    actionType: "version_change",
    imageTag: NEW_TAG,
    instanceIds: ids,
    scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
    noticeLeadHours: 24,
    waves: [
      { percent: 15, soakMinutes: 60 },
      { percent: 50, soakMinutes: 60 },
      { percent: 100 },
    ],
    gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
  });
  const prev = (await app.kv.get<Stage>(keys.stage(id, 0))).value!;
  const op = app.kv.atomic();
  putStage(op, prev, {
    ...prev,
    status: "completed",
    soakUntil: new Date(Date.now() + HOUR).toISOString(),
    gate: {
      verdict: "failed",
      at: new Date().toISOString(),
      failedPercent: 33.33,
      unhealthyPercent: 66.67,
      healthy: 0,
      unhealthy: 2,
      unknown: 0,
      checked: 2,
      nextAt: null,
    },
  });
  addToStageCounter(op, prev, "applied", 2);
  addToStageCounter(op, prev, "failed", 1);
  assert.ok((await op.commit()).ok);
  await setStatus(app, id, { status: "paused" });
  return id;
}

async function setStatus(
  app: TestApp,
  id: string,
  change: Partial<ScheduledAction>,
) {
  const a = (await app.kv.get<ScheduledAction>(keys.action(id))).value!;
  await app.kv.set(keys.action(id), { ...a, ...change });
}

async function openControl(page: Page, name: string) {
  await page.getByRole("button", { name, exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  return dialog;
}

Deno.test({
  name:
    "browser: a paused rollout's page — the waves as a timeline with health, the paused line, Resume / Abort / Roll back with a reason, 375 px",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { app, admin } = await rolloutApp();
    const instances = await seedInstances(app.kv, 20, { imageTag: OLD_TAG });
    const id = await pausedRollout(app, instances.map((i) => i.id));
    await withBrowser(app, async (origin, browser) => {
      // Without JavaScript the controls are forms posted to the page: axe-clean too.
      const html = await (await fetch(`${origin}/admin/actions/${id}`, {
        headers: { cookie: admin.cookie },
      })).text();
      assert.match(html, /name="intent" value="rollback"/);
      await expectAccessibleWithoutScripts(
        browser,
        origin,
        html,
        "a paused rollout's page without JavaScript",
      );

      const ctx = await signedIn(browser, origin, admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin/actions/${id}`);
      await hydrated(page, ".action-live[data-enhanced]");
      assert.equal(
        (await page.getByTestId("pause-line").innerText()).split(".")[0],
        "Paused: wave 1 — 1 of 3 failed, 2 unhealthy, over the 5 % gate",
      );
      const wave1 = page.getByTestId("wave-1");
      assert.match(await wave1.innerText(), /3 instances/);
      assert.equal(
        await wave1.getByTestId("wave-counts").innerText(),
        "2 applied · 1 failed · 0 skipped",
      );
      assert.equal(
        await wave1.getByTestId("wave-health").innerText(),
        "Health: 0 healthy · 2 unhealthy · 0 unknown",
      );
      assert.match(
        await wave1.getByTestId("wave-gate").innerText(),
        /Soak 60 minutes, until .*gate failed \(33\.33 % failed, 66\.67 % unhealthy\)/,
      );
      assert.match(
        await page.getByTestId("wave-2").getByTestId("wave-gate").innerText(),
        /gate not judged yet/,
      );
      assert.match(
        await page.getByTestId("wave-3").getByTestId("wave-gate").innerText(),
        /no gate after it/,
      );
      await expectAccessible(page, "a paused rollout's page");

      // Each control asks first, with a reason, and calls its API route.
      const calls: { url: string; body: unknown }[] = [];
      await page.route(`${origin}/api/admin/scheduled-actions/${id}/*`, (r) => {
        const req = r.request();
        if (req.method() !== "POST") return r.fallback();
        calls.push({ url: req.url(), body: req.postDataJSON() });
        return r.fulfill({
          status: req.url().endsWith("/rollback") ? 201 : 200,
          contentType: "application/json",
          body: JSON.stringify({ id }),
        });
      });
      let dialog = await openControl(page, "Resume");
      await expectAccessible(page, "the Resume dialog");
      await dialog.getByLabel("At a time I choose").check();
      await dialog.getByTestId("resume-at").fill("2031-03-04T05:06");
      await dialog.getByLabel(/Reason/).fill("canary fixed");
      await dialog.getByTestId("confirm-resume").click();
      await page.getByText("Rollout resumed.").first().waitFor();
      assert.deepEqual(calls.at(-1), {
        url: `${origin}/api/admin/scheduled-actions/${id}/resume`,
        // The browser's zone (New York) at that wall-clock time.
        body: {
          reason: "canary fixed",
          scheduledAt: "2031-03-04T10:06:00.000Z",
        },
      });

      dialog = await openControl(page, "Resume");
      await dialog.getByTestId("confirm-resume").click();
      await dialog.waitFor({ state: "hidden" });
      assert.deepEqual(calls.at(-1)?.body, { reason: null });

      dialog = await openControl(page, "Abort");
      await dialog.getByRole("button", { name: "Not now" }).click();
      await dialog.waitFor({ state: "hidden" });
      assert.equal(calls.length, 2, "Not now calls nothing");
      dialog = await openControl(page, "Abort");
      await dialog.getByLabel(/Reason/).fill("bad build");
      await dialog.getByTestId("confirm-abort").click();
      await page.getByText("Rollout aborted.").first().waitFor();
      assert.deepEqual(calls.at(-1), {
        url: `${origin}/api/admin/scheduled-actions/${id}/abort`,
        body: { reason: "bad build" },
      });

      // An answer with problems is said in the dialog.
      await page.unroute(`${origin}/api/admin/scheduled-actions/${id}/*`);
      await page.route(
        `${origin}/api/admin/scheduled-actions/${id}/rollback`,
        (r) =>
          r.fulfill({
            status: 409,
            contentType: "application/json",
            body: JSON.stringify({
              error: "only a version change can be rolled back",
            }),
          }),
      );
      dialog = await openControl(page, "Roll back");
      await dialog.getByTestId("confirm-rollback").click();
      await dialog.getByRole("alert").getByText(
        "only a version change can be rolled back",
      ).waitFor();
      await dialog.getByRole("button", { name: "Not now" }).click();

      // The server's own refusal names the field as the dialog does.
      dialog = await openControl(page, "Resume");
      await dialog.getByLabel("At a time I choose").check();
      await dialog.getByTestId("resume-at").fill("2020-01-01T09:00");
      await dialog.getByTestId("confirm-resume").click();
      assert.equal(
        await dialog.getByRole("alert").innerText(),
        "The resume time is in the past.",
      );
      await dialog.getByRole("button", { name: "Not now" }).click();
      assert.deepEqual(errors.filter((e) => !/409|400/.test(e)), []);

      // At 375 px: the timeline and the controls fit.
      const small = await signedIn(browser, origin, admin.cookie, {
        width: 375,
      });
      const phone = await small.newPage();
      await phone.goto(`${origin}/admin/actions/${id}`);
      await hydrated(phone, ".action-live[data-enhanced]");
      const box = await phone.getByRole("button", { name: "Roll back" })
        .boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375, "on screen");
      await noSidewaysScroll(phone);
      await expectAccessible(phone, "a paused rollout's page at 375 px");
    });
  },
});

async function bannerText(page: Page) {
  return (await page.getByTestId("workspace-banner").innerText()).trim();
}

Deno.test({
  name:
    "browser: the owner's banner turns to on hold when the rollout pauses, with no countdown, 375 px",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = clock(Date.now());
    const app = await createTestApp({
      config: { embeddedUnhealthyTags: [NEW_TAG] },
      context: { now: c.now },
    });
    await putCatalogEntry(app.kv, OLD_TAG, { openclawVersion: "1.8.2" });
    await putCatalogEntry(app.kv, NEW_TAG, { openclawVersion: "1.9.0" });
    const owner = await app.signIn({ name: "Maya Lindqvist" });
    const instances = await seedInstances(app.kv, 4, {
      imageTag: OLD_TAG,
      ownerId: owner.user.id,
    });
    const { id } = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "version_change",
      imageTag: NEW_TAG,
      instanceIds: instances.map((i) => i.id),
      scheduledAt: new Date(c.now() + HOUR).toISOString(),
      noticeLeadHours: 24,
      noticeChannels: ["webapp"],
      waves: [{ count: 1, soakMinutes: 60 }, { percent: 100 }],
      gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
    });
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    const detail = await apiOk(
      app,
      "GET",
      `/api/admin/scheduled-actions/${id}`,
    );
    const later = detail.targets.items.find((
      t: { target: { stageIndex: number } },
    ) => t.target.stageIndex === 1).target.instanceId;
    const wave2At = detail.stages[1].scheduledAt;

    await withBrowser(app, async (origin, browser: Browser) => {
      const ctx = await signedIn(browser, origin, owner.cookie, {
        width: 375,
        timezoneId: "UTC",
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/claw/${later}`);
      await page.locator(".banner-slot[data-enhanced]").waitFor({
        state: "attached",
      });
      // Their own wave's time, not the first wave's.
      assert.equal(
        await page.getByTestId("workspace-banner").locator("time")
          .getAttribute("datetime"),
        wave2At,
      );
      // An urgent change says so once, in one sentence.
      assert.equal(
        await page.getByTestId("postpone-refused").innerText(),
        "This change is urgent: it cannot be postponed.",
      );

      // The canary's time comes: its new tag is unhealthy, the rollout pauses.
      c.advance(HOUR);
      assert.equal((await applyTick(app.ctx)).paused, 1);
      await page.getByTestId("workspace-banner").getByText(
        "we will tell you the new time",
      ).waitFor({ timeout: 15_000 });
      const text = await bannerText(page);
      assert.match(text, /^On hold: we will tell you the new time\./);
      assert.match(text, /upgrade to OpenClaw 1\.9\.0/);
      assert.equal(
        await page.getByTestId("workspace-banner").locator("time").count(),
        0,
        "no countdown to a time that will not happen",
      );
      assert.equal(
        await page.getByTestId("postpone-refused").count(),
        0,
        "on hold, the banner alone says a new time will come",
      );
      await noSidewaysScroll(page);
      await expectAccessible(page, "the workspace on hold at 375 px");

      // The owner's list says it too.
      await page.goto(`${origin}/`);
      await page.locator("[data-on-hold]").first().waitFor();
      assert.match(
        await page.locator("[data-on-hold]").first().innerText(),
        /on hold: we will tell you the new time/,
      );
      await expectAccessible(page, "the owner's instances on hold");
      assert.deepEqual(errors, []);
    });
  },
});

Deno.test({
  name:
    "browser: a real pause — three waves, the canary's new tag unhealthy; the page shows it live, then Resume at a chosen time, Abort and Roll back through the engine",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = clock(Date.now());
    const app = await createTestApp({
      config: { embeddedUnhealthyTags: [NEW_TAG] },
      context: { now: c.now },
    });
    await putCatalogEntry(app.kv, OLD_TAG, { openclawVersion: "1.8.2" });
    await putCatalogEntry(app.kv, NEW_TAG, { openclawVersion: "1.9.0" });
    const admin = await app.signIn({ admin: true, name: "Ada Admin" });
    const rollout = async () => {
      const instances = await seedInstances(app.kv, 10, {
        imageTag: OLD_TAG,
      });
      return (await apiOk(app, "POST", "/api/admin/scheduled-actions", {
        actionType: "version_change",
        imageTag: NEW_TAG,
        instanceIds: instances.map((i) => i.id),
        scheduledAt: new Date(c.now() + HOUR).toISOString(),
        noticeLeadHours: 24,
        waves: [
          { percent: 20, soakMinutes: 30 },
          { percent: 50, soakMinutes: 30 },
          { percent: 100 },
        ],
        gate: { maxFailedPercent: 5, maxUnhealthyPercent: 5 },
      })).id as string;
    };
    const [resumed, aborted, rolledBack] = [
      await rollout(),
      await rollout(),
      await rollout(),
    ];
    await apiOk(app, "POST", "/api/admin/notices/sweep");

    await withBrowser(app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin/actions/${resumed}`);
      await hydrated(page, ".action-live[data-enhanced]");
      assert.equal(await page.getByTestId("pause-line").count(), 0);

      // Wave 1's time comes (the clock moves, not the wall): its 2 instances
      // change to the unhealthy tag and the gate pauses the rollout.
      c.advance(HOUR);
      const tick = await applyTick(app.ctx);
      assert.equal(tick.paused, 3);
      // The page follows on its own.
      await page.getByTestId("pause-line").waitFor({ timeout: 40_000 });
      assert.equal(
        (await page.getByTestId("pause-line").innerText()).split(".")[0],
        "Paused: wave 1 — 0 of 2 failed, 2 unhealthy, over the 5 % gate",
      );
      assert.equal(
        await page.getByTestId("wave-1").getByTestId("wave-health")
          .innerText(),
        "Health: 0 healthy · 2 unhealthy · 0 unknown",
      );
      assert.match(
        await page.getByTestId("wave-1").getByTestId("wave-gate").innerText(),
        /gate failed \(0 % failed, 100 % unhealthy\)/,
      );
      await expectAccessible(page, "a paused rollout, live");

      // Resume two days on, at a wall-clock time in the browser's zone.
      const at = Math.ceil((c.now() + 48 * HOUR) / HOUR) * HOUR;
      let dialog = await openControl(page, "Resume");
      await dialog.getByLabel("At a time I choose").check();
      await dialog.getByTestId("resume-at").fill(
        toZonedInput(at, "America/New_York"),
      );
      await dialog.getByLabel(/Reason/).fill("the build is fixed");
      await dialog.getByTestId("confirm-resume").click();
      await page.getByText("Rollout resumed.").first().waitFor();
      await page.getByTestId("pause-line").waitFor({ state: "detached" });
      const after = await apiOk(
        app,
        "GET",
        `/api/admin/scheduled-actions/${resumed}`,
      );
      assert.equal(after.action.status, "running");
      assert.equal(after.stages[1].scheduledAt, new Date(at).toISOString());
      assert.equal(
        await page.getByTestId("wave-2").locator("time").first()
          .getAttribute("datetime"),
        new Date(at).toISOString(),
      );

      // Abort: the page says after which wave; no control is left.
      await page.goto(`${origin}/admin/actions/${aborted}`);
      await hydrated(page, ".action-live[data-enhanced]");
      dialog = await openControl(page, "Abort");
      await dialog.getByLabel(/Reason/).fill("bad build");
      await dialog.getByTestId("confirm-abort").click();
      await page.getByTestId("aborted-after").waitFor();
      assert.match(
        await page.getByTestId("aborted-after").innerText(),
        /^Aborted after wave 1:/,
      );
      assert.equal(await page.getByTestId("open-resume").count(), 0);

      // Roll back: a new action moving the canary back, linked both ways.
      await page.goto(`${origin}/admin/actions/${rolledBack}`);
      await hydrated(page, ".action-live[data-enhanced]");
      dialog = await openControl(page, "Roll back");
      await dialog.getByTestId("confirm-rollback").click();
      await page.waitForURL((u) =>
        /\/admin\/actions\/[0-9a-f-]{36}$/.test(u.pathname) &&
        !u.pathname.endsWith(rolledBack)
      );
      await hydrated(page, ".action-live[data-enhanced]");
      const links = page.getByTestId("rollback-links");
      assert.match(await links.innerText(), /^Rolls back Version change/);
      await links.getByRole("link").click();
      await page.waitForURL(`${origin}/admin/actions/${rolledBack}`);
      await page.getByTestId("rollback-links").getByText("Rolled back by")
        .waitFor();
      await page.getByTestId("aborted-after").waitFor();
      await expectAccessible(page, "a rolled-back rollout");
      assert.deepEqual(errors, []);
    });
  },
});
