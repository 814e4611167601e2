/**
 * Renews the README's screenshots (docs/*.png) from the real pages: the demo
 * data in an in-memory KV, served in process, photographed with Chromium.
 * Pictures keep to one screen (1280 x 800, or 375 px wide on a phone) or to
 * the part of the page they show, so the README stays light.
 * Run with `deno task screenshots`.
 */
import type { Browser, Page } from "playwright-core";
import { createTestApp } from "../helpers/app.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { afterReview, hydrated, reviewReady } from "../helpers/e2e.ts";
import { seedDemoData } from "@/lib/demo_seed.ts";
import { listActions } from "@/lib/views/action_reads.ts";
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
  opts: { width: number; timezoneId: string; height?: number },
): Promise<Page> {
  const user = await getUserByEmail(app.kv, email);
  const link = await createLoginLink(
    app.kv,
    user!.id,
    app.ctx.config.publicUrl,
  );
  const ctx = await browser.newContext({
    viewport: { width: opts.width, height: opts.height ?? 800 },
    timezoneId: opts.timezoneId,
    deviceScaleFactor: 1,
  });
  const page = await ctx.newPage();
  await page.goto(link.replace(/^https?:\/\/[^/]+/, origin));
  return page;
}

async function shot(page: Page, name: string, fullPage = false) {
  await page.waitForLoadState("networkidle");
  // Typing scrolls the page: a picture starts at the page's top.
  await page.evaluate(() => globalThis.scrollTo(0, 0));
  await page.screenshot({ path: new URL(name, DOCS).pathname, fullPage });
  console.log(`docs/${name}`);
}

/**
 * The part of the page from the top of `selector` to the bottom of `until`
 * (the same element unless given), at most `maxHeight` px of it.
 */
async function part(
  page: Page,
  name: string,
  selector: string,
  { until = selector, maxHeight = 800 } = {},
) {
  await page.waitForLoadState("networkidle");
  const from = (await page.locator(selector).first().boundingBox())!;
  const to = (await page.locator(until).first().boundingBox())!;
  const height = Math.min(to.y + to.height - from.y, maxHeight);
  const left = Math.min(from.x, to.x);
  const width = Math.max(from.x + from.width, to.x + to.width) - left;
  // Page coordinates: the pictured part may lie below the first screen.
  const scrollY = await page.evaluate(() => globalThis.scrollY);
  await page.screenshot({
    path: new URL(name, DOCS).pathname,
    fullPage: true,
    clip: {
      x: Math.max(0, left - 8),
      y: Math.max(0, from.y + scrollY - 8),
      width: width + 16,
      height: height + 16,
    },
  });
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
      /version change/i.test(m.subject)
    );
    await admin.goto(`${origin}/admin/outbox/${mail!.id}`);
    await shot(admin, "outbox-email.png");

    // The README's first-use walk: two instances restarted in three hours,
    // the notices sent by the sweep button, and the demo's completed restart.
    await admin.goto(`${origin}/admin`);
    await hydrated(admin, ".selection-bar button[data-testid]");
    await admin.getByRole("checkbox", { name: "Select Maya's pinned bot" })
      .check();
    await admin.getByRole("checkbox", { name: "Select Tom's sales bot" })
      .check();
    await admin.getByTestId("schedule-selected").click();
    await hydrated(admin);
    await reviewReady(admin);
    const soon = Math.ceil((Date.now() + 3 * 3_600_000) / 900_000) * 900_000;
    await afterReview(admin, async () => {
      await admin.getByLabel(/^Date and time/).fill(
        toZonedInput(soon, "America/New_York"),
      );
      await admin.getByLabel(/^Reason/).fill("Kernel update");
    });
    await part(admin, "first-use-review.png", ".schedule-aside", {
      maxHeight: 440,
    });
    await admin.getByRole("button", {
      name: "Schedule restart for 2 instances",
    })
      .click();
    await admin.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}/);
    await hydrated(admin, ".action-live[data-enhanced]");
    await admin.getByRole("button", { name: "Run notice sweep now" }).click();
    await admin.getByText("View email").first().waitFor();
    await part(admin, "first-use-sent.png", ".progress-box");

    const completed = (await listActions(app.kv)).items.find((a) =>
      a.action.status === "completed"
    );
    await admin.goto(`${origin}/admin/actions/${completed!.action.id}`);
    await hydrated(admin, ".action-live[data-enhanced]");
    await part(admin, "first-use-completed.png", "main h1", {
      until: "dl.facts",
    });

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
