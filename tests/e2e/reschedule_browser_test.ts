/**
 * In Chromium: an admin moves a restart from the action page (review, then
 * confirm) after the owner was warned; the owner's banner moves with it and
 * the owner is emailed about the move.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { hydrated } from "../helpers/e2e.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { newId } from "@/lib/ids.ts";
import { SESSION_COOKIE } from "@/lib/auth/sessions.ts";
import { formatDateTime, toZonedInput } from "@/lib/format.ts";

Deno.test({
  name:
    "browser: move a restart from the action page; the owner's banner moves",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp();
    const admin = await app.signIn({ admin: true, name: "Ada Admin" });
    const owner = await app.signIn({ name: "Maya Lindqvist" });
    await putCatalogEntry(app.kv, "2026.11.1", { openclawVersion: "1.8.2" });
    const instanceId = newId();
    await putInstance(app.kv, instanceId, {
      name: "Maya's support bot",
      ownerId: owner.user.id,
      imageTag: "2026.11.1",
    });
    // Whole minutes, so the form's minute-precision input round-trips.
    const minute = 60_000;
    const first = new Date(
      Math.ceil((Date.now() + 2 * 3600_000) / minute) * minute,
    );
    const created = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [instanceId],
      scheduledAt: first.toISOString(),
      noticeLeadHours: 24,
      noticeChannels: ["email", "webapp"],
    });
    assert.equal(created.status, 201);
    const actionId = (await created.json()).id;
    await (await app.api("POST", "/api/admin/notices/sweep")).body?.cancel();

    await app.serve(async (origin) => {
      const browser = await launchBrowser();
      const errors: string[] = [];
      try {
        const cookie = (c: string) => ({
          name: SESSION_COOKIE,
          value: c.split("=")[1],
          url: origin,
          httpOnly: true,
          sameSite: "Lax" as const,
        });
        const ownerCtx = await browser.newContext({
          viewport: { width: 375, height: 800 },
        });
        await ownerCtx.addCookies([cookie(owner.cookie)]);
        const ownerPage = await ownerCtx.newPage();
        await ownerPage.goto(`${origin}/claw/${instanceId}`);
        const before = await ownerPage.locator(".banner").innerText();
        assert.match(before, /will restart at/);

        // The admin's browser is in Kolkata (UTC+5:30): the time typed is read there.
        const adminCtx = await browser.newContext({
          timezoneId: "Asia/Kolkata",
        });
        await adminCtx.addCookies([cookie(admin.cookie)]);
        const page = await adminCtx.newPage();
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(`${origin}/admin/actions/${actionId}`);
        await hydrated(page, ".move-open[data-enhanced]");
        // Move sits beside Cancel action; the form takes the keyboard to the
        // time, and Close brings it back to Move.
        assert.deepEqual(
          await page.locator(".page-head .head-actions").getByRole("button")
            .allInnerTexts(),
          ["Move", "Cancel action"],
        );
        const focused = () =>
          page.evaluate(() =>
            (document.activeElement as HTMLInputElement | null)?.name ||
            document.activeElement?.textContent
          );
        await page.getByRole("button", { name: "Move", exact: true }).click();
        await page.waitForFunction(() =>
          (document.activeElement as HTMLInputElement | null)?.name ===
            "moveTo"
        );
        await page.getByRole("button", { name: "Close" }).click();
        await page.waitForFunction(() =>
          document.activeElement?.classList.contains("move-open")
        );
        assert.equal(await focused(), "Move");
        await page.getByRole("button", { name: "Move", exact: true }).click();
        const to = new Date(first.getTime() + 2 * 86_400_000);
        const dialog = page.locator(".move-action");
        assert.match(await dialog.innerText(), /in Asia\/Kolkata \(IST\)/);
        await page.getByLabel("New time").fill(
          toZonedInput(to.getTime(), "Asia/Kolkata"),
        );
        assert.match(
          await page.locator("#move-time-hint").innerText(),
          new RegExp(formatDateTime(to.getTime(), "UTC").slice(0, 16)),
        );
        await page.getByLabel("Reason (for the audit)").fill("launch week");
        await page.getByRole("button", { name: "Review move" }).click();
        const review = await page.locator(".move-action .review").innerText();
        assert.match(review, /Move from .* to /);
        assert.ok(
          review.includes(formatDateTime(to.getTime(), "Asia/Kolkata")),
          `the review names the new time in the admin's zone: ${review}`,
        );
        assert.match(review, /already warned are told it moved/);
        // The message they get about the move, and when the rest are warned.
        assert.equal(
          await page.getByTestId("move-subject").innerText(),
          "KiloClaw: Restart moved",
        );
        assert.match(
          await page.getByTestId("move-notice").innerText(),
          /^Owners not yet warned get their notice at .*, 24 h ahead\.$/,
        );
        await page.getByRole("button", { name: "Move action" }).click();
        // Said in the dialog; "Done" shows the page at the new time.
        assert.match(
          await page.getByTestId("move-done").innerText(),
          /^Moved to .*\. Owners already warned are told it moved/,
        );
        await page.getByRole("button", { name: "Done" }).click();
        await page.locator('tr[data-change="action.reschedule"]').waitFor();
        assert.match(await page.content(), /launch week/);
        assert.match(
          await page.locator("dl.facts").innerText(),
          // The page writes times as lib/format.ts does: "Sat, Nov 28, 2026, 14:59 UTC".
          new RegExp(formatDateTime(to.getTime(), "UTC").slice(0, 16)),
        );

        await ownerPage.reload();
        const after = await ownerPage.locator(".banner").innerText();
        assert.notEqual(after, before);
        const day = new Intl.DateTimeFormat("en-US", {
          month: "short",
          day: "numeric",
          timeZone: "UTC",
        }).format(to);
        assert.ok(after.includes(day), `banner "${after}" shows ${day}`);

        await (await app.api("POST", "/api/admin/notices/sweep")).body
          ?.cancel();
        const { items } = await listOutbox(app.kv, { limit: 10 });
        assert.ok(
          items.some((m) =>
            m.kind === "email" && m.to === owner.user.email &&
            m.subject === "KiloClaw: Restart moved"
          ),
          "the owner got the moved email",
        );
      } finally {
        await browser.close();
      }
      assert.deepEqual(errors, []);
    });
    await app.close();
  },
});
