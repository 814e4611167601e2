/**
 * The product as people use it, in Chromium: an admin schedules a restart
 * with the form, runs the sweep, the owner sees the banner; the admin cancels
 * and the owner sees that it was called off.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { afterReview, hydrated, reviewReady } from "../helpers/e2e.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { newId } from "@/lib/ids.ts";
import { SESSION_COOKIE } from "@/lib/auth/sessions.ts";

Deno.test({
  name:
    "browser: schedule with the form, sweep, banner, cancel, called-off banner",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp();
    const admin = await app.signIn({ admin: true, name: "Ada Admin" });
    const owner = await app.signIn({
      name: "Maya Lindqvist",
      timeZone: "Europe/Stockholm",
    });
    await putCatalogEntry(app.kv, "2026.11.1", { openclawVersion: "1.8.2" });
    const instanceId = newId();
    await putInstance(app.kv, instanceId, {
      name: "Maya's support bot",
      ownerId: owner.user.id,
      imageTag: "2026.11.1",
    });

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
        const adminCtx = await browser.newContext();
        await adminCtx.addCookies([cookie(admin.cookie)]);
        const page = await adminCtx.newPage();
        page.on("pageerror", (e) => errors.push(e.message));

        await page.goto(`${origin}/admin/actions/new?instanceId=${instanceId}`);
        await hydrated(page);
        await reviewReady(page);
        const when = new Date(Date.now() + 2 * 3600_000);
        const pad = (n: number) => String(n).padStart(2, "0");
        await page.locator('input[name="scheduledAt"]').fill(
          `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${
            pad(when.getDate())
          }T${pad(when.getHours())}:${pad(when.getMinutes())}`,
        );
        await page.getByLabel("Email subject").fill("Planned maintenance");
        await page.getByLabel("Message").fill(
          "<script>alert(1)</script> back soon",
        );

        // A bad lead time is refused with the field's message, and nothing is scheduled.
        await page.getByLabel("Hours of notice").fill("500");
        await page.getByRole("button", { name: "Review", exact: true }).click();
        await page.locator("#error-summary").getByText(/from 1 to 168/)
          .waitFor();
        assert.match(page.url(), /\/admin\/actions\/new/);

        await page.getByLabel("Hours of notice").fill("24");
        await afterReview(
          page,
          () =>
            page.getByRole("button", { name: "Review", exact: true }).click(),
        );
        await page.getByTestId("schedule").click();
        await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/);
        assert.match(await page.locator("h1").innerText(), /Restart/);
        assert.match(
          await page.locator(".flash").innerText(),
          /Scheduled for 1 instance\./,
        );
        assert.match(
          await page.content(),
          /Maya&#39;s support bot|Maya's support bot/,
        );

        await hydrated(page, ".action-live[data-enhanced]");
        await page.getByRole("button", { name: "Run notice sweep now" })
          .click();
        await page.getByText(/processed 3, sent 3/).waitFor();
        const { items } = await listOutbox(app.kv, { limit: 10 });
        const mail = items.find((m) =>
          m.kind === "email" && m.to === owner.user.email
        );
        assert.ok(
          mail && mail.kind === "email",
          "the owner's notice email is in the outbox",
        );
        assert.equal(mail.subject, "Planned maintenance");
        assert.ok(
          !mail.html.includes("<script>"),
          "the admin's markup arrives inert",
        );

        const ownerCtx = await browser.newContext({
          viewport: { width: 375, height: 800 },
        });
        await ownerCtx.addCookies([cookie(owner.cookie)]);
        const ownerPage = await ownerCtx.newPage();
        await ownerPage.goto(`${origin}/claw/${instanceId}`);
        const banner = ownerPage.locator(".banner");
        assert.match(
          await banner.innerText(),
          /Your bot Maya's support bot will restart at .* \(in .*\)/,
        );
        await ownerPage.goto(`${origin}/`);
        assert.match(
          await ownerPage.locator(".card-note").innerText(),
          /^Restart at .*\(in .*\)/,
        );
        await ownerPage.goto(`${origin}/claw/${instanceId}`);

        await page.getByRole("button", { name: "Cancel action" }).click();
        const confirm = page.getByRole("dialog", { name: "Cancel action" });
        await confirm.getByRole("button", { name: "Cancel action" }).click();
        await page.locator("h1 .pill-cancelled").waitFor();
        await page.getByRole("button", { name: "Run notice sweep now" })
          .click();
        await page.getByText(/processed 3, sent 3/).waitFor();

        await ownerPage.reload();
        assert.match(
          await ownerPage.locator(".banner").innerText(),
          /has been called off/,
        );
        await ownerPage.goto(`${origin}/`);
        assert.match(
          await ownerPage.locator(".card-note").innerText(),
          /The restart planned for .* was called off/,
        );
        const after = await listOutbox(app.kv, { limit: 10 });
        assert.ok(
          after.items.some((m) =>
            m.kind === "email" && m.to === owner.user.email &&
            /cancel/i.test(m.subject)
          ),
          "the owner got a cancellation email",
        );
      } finally {
        await browser.close();
      }
      assert.deepEqual(errors, []);
    });
    await app.close();
  },
});
