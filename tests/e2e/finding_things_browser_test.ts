/**
 * Finding things and reading them, in Chromium at 1280 and 375 px with axe:
 * the actions list searched and filtered by status, type and words (an empty
 * result says so); the outbox filtered by recipient and action, a push named
 * by its owner, not its token; an empty instance search says nothing matched
 * and offers nothing to schedule; the cancel-one dialog's question is whole;
 * cancelled instances are counted as cancelled; every nav link is on screen
 * on a phone.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  expectAccessible,
  fleet,
  hydrated,
  OLD_TAG,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";

const HOUR = 3_600_000;

async function noSidewaysScroll(page: Page, what: string) {
  assert.ok(
    await page.evaluate(() =>
      document.documentElement.scrollWidth <= globalThis.innerWidth
    ),
    `${what} scrolls sideways`,
  );
}

/** The text of the element is not cut: nothing overflows its box or the dialog's. */
async function wholeText(page: Page, selector: string) {
  return await page.locator(selector).evaluate((el) => {
    const box = el.getBoundingClientRect();
    const dialog = el.closest("dialog")!.getBoundingClientRect();
    return el.scrollWidth <= el.clientWidth + 1 && box.right <= dialog.right;
  });
}

Deno.test({
  name:
    "browser: actions search and filters, outbox by recipient and action, empty searches, the cancel-one dialog, cancelled counts, the phone nav (1280 and 375 px)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    const schedule = async (body: Record<string, unknown>) => {
      const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
        scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
        noticeLeadHours: 3,
        noticeChannels: ["email", "mobile_push"],
        ...body,
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()).id as string;
    };
    const restart = await schedule({
      actionType: "scheduled_restart",
      instanceIds: [
        f.ids["Maya's support bot"],
        f.ids["Maya's research assistant"],
        f.ids["Tom's sales bot"],
      ],
      reason: "Kernel patch",
    });
    const downgrade = await schedule({
      actionType: "version_change",
      imageTag: OLD_TAG,
      instanceIds: [f.ids["Tom's on-call helper"]],
      reason: "Roll back the gateway",
    });
    assert.equal(
      (await f.app.api("POST", "/api/admin/notices/sweep")).status,
      200,
    );

    await withBrowser(f.app, async (origin, browser) => {
      for (const width of [1280, 375]) {
        const ctx = await signedIn(browser, origin, f.admin.cookie, {
          width,
          timezoneId: width === 375 ? "Asia/Kolkata" : "Europe/Berlin",
        });
        const page = await ctx.newPage();
        const errors = watch(page);

        // The actions list: by type, by words, by status, and nothing found.
        await page.goto(`${origin}/admin/actions`);
        const rows = page.getByTestId("actions").locator("tbody tr");
        assert.equal(await rows.count(), 2);
        assert.deepEqual(
          await rows.locator("td:first-child a").allInnerTexts(),
          ["Version change to OpenClaw 1.8.2", "Restart"],
        );
        const search = page.getByRole("search", { name: "Scheduled actions" });
        await search.getByLabel("Type").selectOption("version_change");
        await search.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL(/type=version_change/);
        assert.deepEqual(
          await rows.evaluateAll((r) =>
            r.map((e) => (e as HTMLElement).dataset.action)
          ),
          [downgrade],
        );
        await expectAccessible(page, `actions filtered at ${width}`);
        await noSidewaysScroll(page, `actions filtered at ${width}`);

        await page.goto(`${origin}/admin/actions`);
        await search.getByLabel("Search").fill("kernel");
        await search.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL(/q=kernel/);
        assert.deepEqual(
          await rows.evaluateAll((r) =>
            r.map((e) => (e as HTMLElement).dataset.action)
          ),
          [restart],
        );

        await page.goto(`${origin}/admin/actions`);
        await search.getByLabel("cancelled").check();
        await search.getByRole("button", { name: "Filter" }).click();
        await page.waitForURL(/status=cancelled/);
        await page.getByTestId("no-match").getByText(
          "No action matches these filters.",
        ).waitFor();
        assert.equal(await page.getByTestId("actions").count(), 0);
        await expectAccessible(page, `actions, none found, at ${width}`);

        // The instances list, searched for nothing: no table, no button.
        await page.goto(`${origin}/admin?q=no-such-bot-anywhere`);
        await page.getByTestId("no-match").getByText(
          "No instance matches these filters.",
        ).waitFor();
        assert.equal(
          await page.getByRole("button", { name: /Schedule for/ }).count(),
          0,
        );
        assert.equal(await page.locator("table").count(), 0);
        await expectAccessible(page, `instances, none found, at ${width}`);

        // The outbox: a push names Tom, not his token; filter by him, then by the action.
        await page.goto(`${origin}/admin/outbox`);
        const outbox = page.getByTestId("outbox");
        assert.equal(
          await outbox.getByText("ExponentPushToken").count(),
          0,
          "no raw push token",
        );
        const tomPush = outbox.locator("tr", { hasText: "Push" }).filter({
          hasText: "Tom Okafor",
        });
        assert.equal(await tomPush.count(), 2, "Tom's two pushes");
        await expectAccessible(page, `outbox at ${width}`);
        await noSidewaysScroll(page, `outbox at ${width}`);
        await tomPush.first().getByRole("link", { name: /Tom Okafor/ }).click();
        await page.waitForURL(/to=/);
        const to = await outbox.locator("td[data-label=To]").allInnerTexts();
        assert.equal(to.length, 4, "Tom's two emails and two pushes");
        assert.ok(to.every((t) => t.includes(f.tom.user.email)), String(to));
        const restartRow = outbox.locator("tr", { hasText: "Tom's sales bot" })
          .first();
        assert.equal(
          await restartRow.getByRole("link", { name: "Restart", exact: true })
            .getAttribute("href"),
          `/admin/actions/${restart}`,
        );
        await page.goto(`${origin}/admin/outbox?action=${restart}`);
        // Three instances, two owners: Maya's two bots share one email (she
        // has no phone), Tom gets an email and a push.
        assert.equal(await outbox.locator("tbody tr").count(), 3);
        assert.deepEqual(
          new Set(
            await outbox.getByRole("link", { name: "Restart", exact: true })
              .evaluateAll((a) => a.map((e) => e.getAttribute("href"))),
          ),
          new Set([`/admin/actions/${restart}`]),
        );

        // The cancel-one dialog's question is whole at this width too.
        await page.goto(`${origin}/admin/actions/${restart}`);
        await hydrated(page, ".action-live[data-enhanced]");
        await page.getByRole("button", { name: "Cancel for this instance" })
          .first().click();
        const ask = page.getByRole("dialog", {
          name: "Cancel for this instance",
        });
        await ask.waitFor();
        assert.ok(
          await wholeText(page, "dialog[open] form > p"),
          `the question is not cut off at ${width}`,
        );
        await ask.getByRole("button", { name: "Keep it" }).click();
        await ask.waitFor({ state: "hidden" });

        // The phone nav: every link on screen, nothing hidden sideways.
        await page.goto(`${origin}/admin/audit`);
        const nav = await page.locator("nav.nav-links a").evaluateAll((as) =>
          as.map((a) => {
            const r = a.getBoundingClientRect();
            return {
              text: a.textContent,
              inView: r.left >= 0 && r.right <= document.documentElement
                    .clientWidth &&
                r.width > 0,
            };
          })
        );
        assert.deepEqual(nav.filter((l) => !l.inView), [], `nav at ${width}`);
        assert.deepEqual(nav.map((l) => l.text), [
          "Your instances",
          "Instances",
          "Actions",
          "Catalog",
          "Users",
          "Outbox",
          "Audit",
          "Webhooks",
          "API",
        ]);
        await noSidewaysScroll(page, `audit at ${width}`);
        assert.deepEqual(errors, []);
        await ctx.close();
      }

      // The cancel-one dialog at 1280 px: its question is whole; then every
      // instance cancelled one by one reads as cancelled, not done.
      const ctx = await signedIn(browser, origin, f.admin.cookie, {
        timezoneId: "Europe/Berlin",
      });
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.goto(`${origin}/admin/actions/${restart}`);
      await hydrated(page, ".action-live[data-enhanced]");
      for (const name of ["Maya's support bot", "Maya's research assistant"]) {
        const row = page.locator(`tr[data-target]:has(a:text-is("${name}"))`);
        await row.getByRole("button", { name: "Cancel for this instance" })
          .click();
        const dialog = page.getByRole("dialog", {
          name: "Cancel for this instance",
        });
        assert.ok(
          await wholeText(page, "dialog[open] form > p"),
          "the question is not cut off",
        );
        if (name === "Maya's support bot") {
          await expectAccessible(page, "the cancel-one dialog");
        }
        await dialog.getByRole("button", { name: "Cancel for this instance" })
          .click();
        await dialog.waitFor({ state: "hidden" });
        await row.locator(".pill-cancelled").waitFor();
      }
      const tom = page.locator(
        `tr[data-target]:has(a:text-is("Tom's sales bot"))`,
      );
      await tom.getByRole("button", { name: "Cancel for this instance" })
        .click();
      await page.getByRole("dialog", { name: "Cancel for this instance" })
        .getByRole("button", { name: "Cancel for this instance" }).click();
      await page.locator("h1 .pill-cancelled").waitFor();
      assert.equal(
        await page.getByTestId("progress").innerText(),
        "None done: every instance was cancelled · 0 applied · 0 skipped · 0 failed · 3 cancelled",
      );
      // The owners' cancellations are counted on their own rows.
      await page.getByTestId("notice-counts").locator(
        'tr[data-kind="cancelled"][data-channel="email"]',
      ).waitFor();
      await expectAccessible(page, "the cancelled action");
      assert.deepEqual(errors, []);
      await ctx.close();
    });
  },
});
