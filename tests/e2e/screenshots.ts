/**
 * Renews the README's screenshots (docs/*.png) from the real pages: the demo
 * data in an in-memory KV, served in process, photographed with Chromium.
 * Run with `deno task screenshots`.
 */
import type { Browser, Page } from "playwright-core";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { afterReview, hydrated, reviewReady } from "../helpers/e2e.ts";
import { seedDemoData } from "@/lib/demo_seed.ts";
import { listActions } from "@/lib/scheduler/read.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { getUserByEmail } from "@/lib/kv/users.ts";
import { createLoginLink } from "@/lib/auth/login_links.ts";
import { toZonedInput } from "@/lib/format.ts";

const DOCS = new URL("../../docs/", import.meta.url);

const app = await createTestApp();
const seeded = await seedDemoData(
  app.kv,
  app.ctx.config.publicUrl,
  Date.now(),
  app.ctx,
);
if (!seeded) throw new Error("the demo did not seed");

async function as(
  browser: Browser,
  origin: string,
  email: string,
  opts: { width: number; timezoneId: string },
): Promise<Page> {
  const user = await getUserByEmail(app.kv, email);
  const link = await createLoginLink(
    app.kv,
    user!.id,
    app.ctx.config.publicUrl,
  );
  const ctx = await browser.newContext({
    viewport: { width: opts.width, height: 900 },
    timezoneId: opts.timezoneId,
    deviceScaleFactor: 1,
  });
  const page = await ctx.newPage();
  await page.goto(link.replace(/^https?:\/\/[^/]+/, origin));
  return page;
}

async function shot(page: Page, name: string, fullPage = true) {
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: new URL(name, DOCS).pathname, fullPage });
  console.log(`docs/${name}`);
}

await app.serve(async (origin) => {
  const browser = await launchBrowser();
  try {
    const admin = await as(browser, origin, seeded.adminEmail, {
      width: 1280,
      timezoneId: "America/New_York",
    });
    await admin.goto(`${origin}/admin`);
    await hydrated(admin, ".selection-bar button[data-testid]");
    await admin.getByRole("checkbox", { name: "Select Tom's sales bot" })
      .check();
    await admin.getByRole("checkbox", { name: "Select Maya's support bot" })
      .check();
    await admin.getByRole("checkbox", { name: "Select Sam's sandbox" }).check();
    await shot(admin, "admin-instances.png");

    await admin.getByTestId("schedule-selected").click();
    await hydrated(admin);
    await reviewReady(admin);
    await afterReview(admin, async () => {
      await admin.getByLabel("Email subject").fill("Planned restart tonight");
      await admin.getByLabel("Hours of notice").fill("6");
    });
    await shot(admin, "schedule-form.png");

    const [open] = (await listActions(app.kv)).items;
    await admin.goto(`${origin}/admin/actions/${open.action.id}`);
    await hydrated(admin, ".action-live[data-enhanced]");
    await shot(admin, "action.png");

    await admin.goto(`${origin}/admin`);
    await admin.getByRole("link", { name: "Ops canary" }).click();
    await hydrated(admin, 'button[aria-haspopup="dialog"]');
    await admin.getByRole("button", { name: "Change version" }).click();
    await reviewReady(admin);
    await shot(admin, "instance-dialog.png", false);

    const mail = (await listOutbox(app.kv)).items.find((m) =>
      m.kind === "email" && m.to === "maya@example.com" &&
      /Version Change/.test(m.subject)
    );
    await admin.goto(`${origin}/admin/outbox/${mail!.id}`);
    await shot(admin, "outbox-email.png");

    const phone = await as(browser, origin, seeded.adminEmail, {
      width: 375,
      timezoneId: "Asia/Kolkata",
    });
    await phone.goto(`${origin}/admin/actions/${open.action.id}`);
    await hydrated(phone, ".action-live[data-enhanced]");
    await shot(phone, "action-phone.png");
    await hydrated(phone, ".move-open[data-enhanced]");
    await phone.getByRole("button", { name: "Move", exact: true }).click();
    const later = Math.ceil((Date.now() + 2 * 86_400_000) / 900_000) * 900_000;
    await phone.getByLabel("New time").fill(
      toZonedInput(later, "Asia/Kolkata"),
    );
    await phone.getByLabel("Reason (for the audit)").fill("Launch week");
    await phone.locator(".move-action").scrollIntoViewIfNeeded();
    await phone.locator(".move-action").screenshot({
      path: new URL("move-phone.png", DOCS).pathname,
    });
    console.log("docs/move-phone.png");

    const maya = await as(browser, origin, seeded.userEmail, {
      width: 375,
      timezoneId: "Europe/Stockholm",
    });
    await maya.getByRole("link", { name: "Maya's support bot" }).click();
    await hydrated(maya, '[data-testid="workspace-banner"][data-enhanced]');
    await shot(maya, "workspace-banner.png");
  } finally {
    await browser.close();
  }
});
await app.close();
