/**
 * Every page of the demo, as it starts: axe-core finds nothing at 1280 px
 * and at 375 px, no page scrolls sideways on a phone, the navigation marks
 * the current page with every link in view (wrapping on a phone, never
 * scrolling sideways out of sight), and the skip link leads to the
 * content. The demo itself shows the product at once: the demo user's banner
 * is up on first sign-in, and the admin sees a completed, a cancelled and a
 * scheduled action.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { createTestApp } from "../helpers/app.ts";
import { expectAccessible, watch, withBrowser } from "../helpers/e2e.ts";
import { seedDemoData } from "@/lib/demo_seed.ts";
import { getUserByEmail } from "@/lib/kv/users.ts";
import { createLoginLink } from "@/lib/auth/login_links.ts";
import { listActions } from "@/lib/views/action_reads.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";

async function signInWith(
  browser: Browser,
  origin: string,
  link: string,
  width: number,
): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width, height: 900 },
    timezoneId: "America/New_York",
  });
  const page = await ctx.newPage();
  await page.goto(link.replace(/^https?:\/\/[^/]+/, origin));
  return page;
}

/**
 * Every link of the nav is on screen, whole (a phone wraps them rather than
 * hiding some past the edge), the header takes at most three lines, and the
 * current page is marked.
 */
async function checkNav(page: Page, current: string | null) {
  const { tops, outside } = await page.locator("header").evaluate((h) => {
    const width = document.documentElement.clientWidth;
    const all = [...h.querySelectorAll("a:not(.skip-link), button")];
    return {
      tops: new Set(
        all.map((e) => Math.round(e.getBoundingClientRect().top / 8)),
      ).size,
      outside: all.filter((e) => {
        const r = e.getBoundingClientRect();
        const nav = e.closest("nav");
        const clipped = nav !== null && nav.scrollWidth > nav.clientWidth;
        return r.left < 0 || r.right > width || clipped;
      }).map((e) => e.textContent),
    };
  });
  assert.ok(tops <= 3, `${page.url()}: the header takes ${tops} lines`);
  assert.deepEqual(outside, [], `${page.url()}: links out of view`);
  const marked = await page.locator('nav.nav-links a[aria-current="page"]')
    .allInnerTexts();
  assert.deepEqual(marked, current ? [current] : []);
}

Deno.test({
  name:
    "browser: every page passes axe at 1280 and 375 px; nav, skip link; the demo shows its four actions and the banner",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = await createTestApp();
    const seeded = await seedDemoData(
      app.kv,
      app.ctx.config.publicUrl,
      Date.now(),
      app.ctx,
    );
    assert.ok(seeded);
    const statuses = (await listActions(app.kv)).items.map((a) =>
      a.action.status
    );
    assert.deepEqual(statuses, [
      "scheduled",
      "paused",
      "cancelled",
      "completed",
    ]);
    const firstEmail = (await listOutbox(app.kv)).items.find((m) =>
      m.kind === "email"
    );
    assert.ok(firstEmail, "the demo's notices went out");

    await withBrowser(app, async (origin, browser) => {
      // The demo user: the banner is up at once.
      for (const width of [1280, 375]) {
        const link = width === 1280
          ? seeded.userLink
          : (await seedLink(app, seeded.userEmail));
        const page = await signInWith(browser, origin, link, width);
        const errors = watch(page);
        await checkNav(page, "Your instances");
        await page.locator(".card-note").first().waitFor();
        await expectAccessible(page, `home at ${width}`);
        await page.getByRole("link", { name: "Maya's support bot" }).click();
        await page.locator('[data-testid="workspace-banner"][data-enhanced]')
          .waitFor();
        assert.match(
          await page.locator(".banner").innerText(),
          /Your bot Maya's support bot will upgrade to OpenClaw 1\.9\.0 at .* E[SD]T \(in (2|3) h/,
        );
        await expectAccessible(page, `workspace at ${width}`);
        await noSidewaysScroll(page);
        assert.deepEqual(errors, []);
        await page.context().close();
      }

      const actionIds = (await listActions(app.kv)).items.map((a) =>
        a.action.id
      );
      const outboxId = firstEmail.id;
      for (const width of [1280, 375]) {
        const link = width === 1280
          ? seeded.adminLink
          : await seedLink(app, seeded.adminEmail);
        const page = await signInWith(browser, origin, link, width);
        const errors = watch(page);
        await page.goto(`${origin}/admin`);
        const instance = await page.getByRole("link", { name: "Sam's bot" })
          .getAttribute("href");
        const pages: [string, string | null, string][] = [
          ["/admin", "Instances", "instances"],
          ["/admin/actions", "Actions", "actions"],
          ["/admin/actions/new", "Actions", "schedule form"],
          ...actionIds.map((id, i) =>
            [
              `/admin/actions/${id}`,
              "Actions",
              `action ${i}`,
            ] as [string, string, string]
          ),
          [instance!, "Instances", "instance"],
          ["/admin/catalog", "Catalog", "catalog"],
          ["/admin/users", "Users", "users"],
          ["/admin/outbox", "Outbox", "outbox"],
          [`/admin/outbox/${outboxId}`, "Outbox", "outbox email"],
          ["/admin/audit", "Audit", "audit"],
          ["/admin/webhooks", "Webhooks", "webhooks"],
          ["/no/such/page", null, "not found"],
        ];
        for (const [path, current, what] of pages) {
          const res = await page.goto(`${origin}${path}`);
          if (what === "not found") {
            assert.equal(res?.status(), 404);
            // The browser logs the 404 of the page itself: that is the point here.
            const at = errors.findIndex((e) => /status of 404/.test(e));
            if (at >= 0) errors.splice(at, 1);
          }
          await page.waitForLoadState("networkidle");
          await checkNav(page, current);
          await expectAccessible(page, `${what} at ${width}`);
          await noSidewaysScroll(page);
          await filtersLineUp(page);
          await controlsWithinPage(page);
          await typedTextIsPlain(page);
          await formPartsApart(page);
        }
        // The skip link is the first stop and leads to the content.
        await page.goto(`${origin}/admin/actions`);
        await page.keyboard.press("Tab");
        assert.equal(
          await page.evaluate(() => document.activeElement?.textContent),
          "Skip to content",
        );
        await page.keyboard.press("Enter");
        assert.equal(
          await page.evaluate(() => document.activeElement?.id),
          "main",
        );
        assert.deepEqual(errors, []);
        await page.context().close();
      }

      const out = await browser.newPage();
      await out.goto(`${origin}/login`);
      await expectAccessible(out, "sign-in");
      await out.fill("input[name=email]", "someone@example.com");
      await out.click("button[type=submit]");
      await out.getByText("a sign-in link is on its way").waitFor();
      await expectAccessible(out, "sign-in asked for");
      await out.close();
    });
  },
});

async function noSidewaysScroll(page: Page) {
  assert.ok(
    await page.evaluate(() =>
      document.documentElement.scrollWidth <= globalThis.innerWidth
    ),
    `${page.url()} scrolls sideways`,
  );
}

/**
 * A filter bar's fields, menus and button are one height, and those that
 * share a line share its bottom edge: a menu a few pixels shorter than the
 * field beside it looks like a mistake.
 */
/** No field, menu or button reaches past the page's content column. */
async function controlsWithinPage(page: Page) {
  const outside = await page.evaluate(() => {
    const box = document.querySelector("main")!;
    // The content column: the main element less its padding.
    const edge = box.getBoundingClientRect().right -
      parseFloat(getComputedStyle(box).paddingRight);
    return [
      ...document.querySelectorAll("main :is(input, select, textarea, button)"),
    ]
      .filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.right > edge + 1;
      })
      .map((e) => e.getAttribute("name") ?? e.textContent?.trim() ?? e.tagName);
  });
  assert.deepEqual(outside, [], `${page.url()}: controls past the page's edge`);
}

async function filtersLineUp(page: Page) {
  const bars = await page.locator("form.filters").evaluateAll((forms) =>
    forms.map((form) =>
      [...form.querySelectorAll(
        "input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, button",
      )].map((e) => {
        const r = e.getBoundingClientRect();
        return {
          name: e.getAttribute("name") ?? e.textContent?.trim() ?? e.tagName,
          height: Math.round(r.height),
          bottom: Math.round(r.bottom),
          top: Math.round(r.top),
          // Fields in a box of their own line up inside it, not with the bar.
          boxed: e.closest("fieldset") !== null,
        };
      })
    )
  );
  for (const controls of bars) {
    const heights = new Set(controls.map((c) => c.height));
    assert.equal(
      heights.size,
      1,
      `${page.url()}: filter controls of different heights ${
        JSON.stringify(controls)
      }`,
    );
    for (const a of controls) {
      for (const b of controls) {
        if (a.boxed === b.boxed && Math.abs(a.top - b.top) < a.height) {
          assert.ok(
            Math.abs(a.bottom - b.bottom) <= 1,
            `${page.url()}: ${a.name} and ${b.name} share a line but not its bottom`,
          );
        }
      }
    }
  }
}

/**
 * In the schedule form, each visible part of a fieldset keeps a gap from the
 * one above: a field's name pressed against the last choice above it reads
 * as part of that choice.
 */
async function formPartsApart(page: Page) {
  const touching = await page.locator(".schedule-form fieldset").evaluateAll(
    (sets) =>
      sets.flatMap((set) => {
        const parts = [...set.children].filter((e) =>
          e.tagName !== "LEGEND" && e.getBoundingClientRect().height > 0
        );
        return parts.slice(1).flatMap((part, i) => {
          const gap = part.getBoundingClientRect().top -
            parts[i].getBoundingClientRect().bottom;
          return gap < 8
            ? [
              `${part.textContent?.trim().slice(0, 30)} (${
                Math.round(gap)
              } px)`,
            ]
            : [];
        });
      }),
  );
  assert.deepEqual(touching, [], `${page.url()}: parts too close`);
}

/** What is typed or chosen in a field reads as plain text, whatever its label's weight. */
async function typedTextIsPlain(page: Page) {
  const bold = await page.locator(
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea",
  ).evaluateAll((fields) =>
    fields.filter((f) => Number(getComputedStyle(f).fontWeight) > 400)
      .map((f) => f.getAttribute("name") ?? f.id)
  );
  assert.deepEqual(bold, [], `${page.url()}: bold fields`);
}

/** A fresh one-time sign-in link for the demo user with this address. */
async function seedLink(
  app: Awaited<ReturnType<typeof createTestApp>>,
  email: string,
): Promise<string> {
  const user = await getUserByEmail(app.kv, email);
  return await createLoginLink(app.kv, user!.id, app.ctx.config.publicUrl);
}
