/**
 * The action page is live: "Run notice sweep now" turns pending notices to
 * sent without a reload, a push to an owner with no device reads "no
 * device", each notice links to its outbox message, "Cancel for this
 * instance" asks for a reason and says who did it, and a cancel made
 * elsewhere shows up on its own. At 375 px the instances are cards with the
 * cancel button on screen.
 */
import assert from "node:assert/strict";
import {
  expectAccessible,
  fleet,
  hydrated,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";

Deno.test({
  name:
    "browser: the live action page — sweep, no device, outbox links, cancel with a reason, refreshes on its own, 375 px",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    const res = await f.app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [f.ids["Maya's support bot"], f.ids["Tom's sales bot"]],
      scheduledAt: new Date(Date.now() + 2 * 3_600_000).toISOString(),
      noticeLeadHours: 3,
    });
    assert.equal(res.status, 201);
    const { id } = await res.json();
    const url = (origin: string) => `${origin}/admin/actions/${id}`;

    await withBrowser(f.app, async (origin, browser) => {
      // At 375 px: cards, nothing off screen.
      const small = await signedIn(browser, origin, f.admin.cookie, {
        width: 375,
      });
      const phone = await small.newPage();
      await phone.goto(url(origin));
      await hydrated(phone, ".action-live[data-enhanced]");
      const button = phone.getByRole("button", {
        name: "Cancel for this instance",
      }).first();
      const box = await button.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 375, "on screen");
      assert.ok(
        await phone.evaluate(() =>
          document.documentElement.scrollWidth <= globalThis.innerWidth
        ),
        "no sideways scrolling",
      );
      await expectAccessible(phone, "the action page at 375 px");
      await small.close();

      const ctx = await signedIn(browser, origin, f.admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      await page.clock.install();
      await page.goto(url(origin));
      await hydrated(page, ".action-live[data-enhanced]");
      const row = (channel: string) =>
        page.getByTestId("notice-counts").locator(
          `tr[data-channel="${channel}"]`,
        );
      assert.deepEqual(
        (await row("email").locator("td").allInnerTexts()).map((t) => t.trim()),
        ["0", "0", "2", "0"],
      );
      await expectAccessible(page, "the action page");

      await page.getByRole("button", { name: "Run notice sweep now" }).click();
      await row("email").filter({ hasText: /^Email\s*2\s*0\s*0\s*0$/ })
        .waitFor();
      // Tom has a phone, Maya none: her push reached nobody and is not "sent".
      assert.deepEqual(
        (await row("mobile_push").locator("td").allInnerTexts()).map((t) =>
          t.trim()
        ),
        ["1", "1", "0", "0"],
      );
      const maya = page.locator(
        `tr[data-target]:has(a:text-is("Maya's support bot"))`,
      );
      const tom = page.locator(
        `tr[data-target]:has(a:text-is("Tom's sales bot"))`,
      );
      assert.equal(
        await maya.locator('li[data-channel="mobile_push"] .pill').innerText(),
        "not delivered",
      );
      assert.equal(
        await tom.locator('li[data-channel="mobile_push"] .pill').innerText(),
        "sent",
      );
      assert.match(
        await tom.locator('li[data-channel="email"]').innerText(),
        new RegExp(`to ${f.tom.user.email}, sent .* · 1 attempt · View email`),
      );
      const mailLink = tom.locator('li[data-channel="email"] a');
      const href = await mailLink.getAttribute("href");
      assert.match(href ?? "", /^\/admin\/outbox\/[0-9a-f-]{36}$/);
      const pushHref = await tom.locator('li[data-channel="mobile_push"] a')
        .getAttribute("href");
      assert.match(pushHref ?? "", /^\/admin\/outbox\/[0-9a-f-]{36}$/);

      // Cancel for one instance, with a reason.
      await maya.getByRole("button", { name: "Cancel for this instance" })
        .click();
      const dialog = page.getByRole("dialog", {
        name: "Cancel for this instance",
      });
      await dialog.getByLabel(/Reason/).fill("Maya asked to keep it running");
      await dialog.getByRole("button", { name: "Cancel for this instance" })
        .click();
      await dialog.waitFor({ state: "hidden" });
      await maya.locator(".pill-cancelled").waitFor();
      assert.match(
        await maya.innerText(),
        /by Ada Admin <.*>, .* — “Maya asked to keep it running”/,
      );
      assert.match(
        await page.getByTestId("progress").innerText(),
        /^0 of 1 done · 0 applied · 0 skipped · 0 failed · 1 cancelled$/,
      );
      await expectAccessible(page, "the action page after a cancel");

      // Cancelled elsewhere: the page finds out by itself.
      const api = await f.app.request(
        `/api/admin/scheduled-actions/${id}/cancel`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${f.app.adminToken}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ reason: "Maintenance postponed" }),
        },
      );
      assert.equal(api.status, 200);
      await page.clock.fastForward(31_000);
      await page.locator("h1 .pill-cancelled").waitFor();
      // Cancelled instances are neither done nor skipped, and the owners'
      // cancellations (both were warned by email) are counted on their own.
      assert.equal(
        await page.getByTestId("progress").innerText(),
        "None done: every instance was cancelled · 0 applied · 0 skipped · 0 failed · 2 cancelled",
      );
      assert.deepEqual(
        (await page.getByTestId("notice-counts").locator(
          'tr[data-kind="cancelled"][data-channel="email"] td',
        ).allInnerTexts()).map((t) => t.trim()),
        ["0", "0", "2", "0"],
      );
      assert.match(
        await page.getByTestId("cancelled-by").innerText(),
        /by Admin API token <.*>\s*“Maintenance postponed”/,
      );

      await page.goto(`${origin}${href}`);
      assert.match(await page.locator("h1").innerText(), /Restart scheduled/);
      await expectAccessible(page, "an outbox email");
      assert.deepEqual(errors, []);
    });
  },
});
