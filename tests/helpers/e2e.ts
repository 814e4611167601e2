/**
 * The browser tests' shared set-up: the app in process on a real port with a
 * small fleet, browser contexts signed in as a given user (in a given time
 * zone, at a given width, with or without JavaScript), and axe-core run on
 * every page they visit.
 */
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createTestApp, type TestApp } from "./app.ts";
import { launchBrowser } from "./browser.ts";
import { SESSION_COOKIE } from "@/lib/auth/sessions.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { addPushToken } from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";
import type { Config } from "@/lib/config.ts";
import type { User } from "@/lib/types.ts";

export const OLD_TAG = "2026.11.1";
export const NEW_TAG = "2026.11.2";

export interface Person {
  user: User;
  cookie: string;
}

export interface Fleet {
  app: TestApp;
  admin: Person;
  maya: Person;
  tom: Person;
  /** Instance ids by name. */
  ids: Record<string, string>;
}

/** The catalog, an admin, two owners (Tom with a phone) and four instances. */
export async function fleet(config: Partial<Config> = {}): Promise<Fleet> {
  const app = await createTestApp({ config });
  const admin = await app.signIn({
    admin: true,
    name: "Ada Admin",
    email: `ada-${newId().slice(-6)}@kiloclaw.test`,
  });
  const maya = await app.signIn({
    name: "Maya Lindqvist",
    timeZone: "Europe/Stockholm",
  });
  const tom = await app.signIn({ name: "Tom Okafor" });
  await addPushToken(app.kv, tom.user.id, `ExponentPushToken[${newId()}]`);
  await putCatalogEntry(app.kv, OLD_TAG, { openclawVersion: "1.8.2" });
  await putCatalogEntry(app.kv, NEW_TAG, { openclawVersion: "1.9.0" });
  const ids: Record<string, string> = {};
  const instances: [string, string, string, string | null][] = [
    ["Maya's support bot", maya.user.id, OLD_TAG, null],
    ["Maya's research assistant", maya.user.id, OLD_TAG, null],
    ["Tom's sales bot", tom.user.id, OLD_TAG, null],
    ["Tom's on-call helper", tom.user.id, NEW_TAG, null],
  ];
  for (const [name, ownerId, imageTag, pinned] of instances) {
    ids[name] = newId();
    await putInstance(app.kv, ids[name], {
      name,
      ownerId,
      imageTag,
      pinnedImageTag: pinned,
    });
  }
  return { app, admin, maya, tom, ids };
}

export interface ContextOptions {
  timezoneId?: string;
  width?: number;
  javaScriptEnabled?: boolean;
}

/** A browser context signed in with `cookie` (the `name=value` header). */
export async function signedIn(
  browser: Browser,
  origin: string,
  cookie: string,
  opts: ContextOptions = {},
): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    timezoneId: opts.timezoneId ?? "America/New_York",
    viewport: { width: opts.width ?? 1280, height: 900 },
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
    locale: "en-US",
  });
  await ctx.addCookies([{
    name: SESSION_COOKIE,
    value: cookie.slice(cookie.indexOf("=") + 1),
    url: origin,
    httpOnly: true,
    sameSite: "Lax",
  }]);
  return ctx;
}

/** Page errors and console errors, collected so a test can say there were none. */
export function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Email frames are sandboxed on purpose: the test tools' own probes into them are refused.
    if (/frame is sandboxed and the 'allow-scripts'/.test(m.text())) return;
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/**
 * Runs axe-core on the page (WCAG 2.x A and AA, plus best practices) and
 * fails with every violation, its rule and the elements at fault.
 */
export async function expectAccessible(
  page: Page,
  what = page.url(),
  /** Rules left out on this page, each with the reason the caller gives. */
  skip: Record<string, string> = {},
) {
  const source = (axe as unknown as { source: string }).source;
  // A page without JavaScript cannot run axe: check it in a scripted twin of its HTML.
  const scripted = await page.evaluate(() => true).catch(() => false);
  if (!scripted) throw new Error("expectAccessible needs JavaScript enabled");
  await page.evaluate(source);
  const result = await page.evaluate(async (skipped) => {
    // deno-lint-ignore no-explicit-any
    const a = (globalThis as any).axe;
    const r = await a.run(document, {
      rules: Object.fromEntries(
        skipped.map((id: string) => [id, { enabled: false }]),
      ),
      runOnly: {
        type: "tag",
        values: [
          "wcag2a",
          "wcag2aa",
          "wcag21a",
          "wcag21aa",
          "wcag22aa",
          "best-practice",
        ],
      },
    });
    return r.violations.map((
      v: {
        id: string;
        help: string;
        nodes: { target: string[]; failureSummary: string }[];
      },
    ) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
    }));
  }, Object.keys(skip));
  assert.deepEqual(
    result,
    [],
    `axe found problems on ${what}:\n${JSON.stringify(result, null, 2)}`,
  );
}

/** Runs `fn` with the app served on a port and one browser, closing both. */
export async function withBrowser(
  app: TestApp,
  fn: (origin: string, browser: Browser) => Promise<void>,
): Promise<void> {
  try {
    await app.serve(async (origin) => {
      const browser = await launchBrowser();
      try {
        await fn(origin, browser);
      } finally {
        await browser.close();
      }
    });
  } finally {
    await app.close();
  }
}

/** The island on the page has started (it marks its form, or swaps links for buttons). */
export async function hydrated(page: Page, selector = "form[data-enhanced]") {
  await page.locator(selector).first().waitFor({ state: "attached" });
}

/**
 * axe-core on a page that ran without JavaScript: its HTML is served again,
 * scripts blocked, in a page that can run axe.
 */
export async function expectAccessibleWithoutScripts(
  browser: Browser,
  origin: string,
  html: string,
  what: string,
) {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = await ctx.newPage();
    await page.route(`${origin}/_frsh/**`, (r) => r.abort());
    await page.route(
      `${origin}/__static_copy`,
      (r) => r.fulfill({ body: html, contentType: "text/html; charset=utf-8" }),
    );
    await page.goto(`${origin}/__static_copy`);
    await expectAccessible(page, what);
  } finally {
    await ctx.close();
  }
}

/** The review's answer count now (see ReviewPanel's `data-version`). */
export async function reviewVersion(page: Page): Promise<number> {
  return Number(
    await page.getByTestId("review").getAttribute("data-version") ?? 0,
  );
}

/**
 * Does `change`, then waits until the review has answered it: a newer
 * answer than before, and nothing left pending.
 */
export async function afterReview(
  page: Page,
  change: () => Promise<unknown>,
): Promise<void> {
  const before = await reviewVersion(page);
  await change();
  await page.waitForFunction(
    (v) => {
      const el = document.querySelector<HTMLElement>('[data-testid="review"]');
      return el !== null && Number(el.dataset.version) > v &&
        el.getAttribute("aria-busy") !== "true";
    },
    before,
  );
}

/** Waits for the form's first review (the island asks as soon as it starts). */
export async function reviewReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const el = document.querySelector<HTMLElement>('[data-testid="review"]');
    return el !== null && Number(el.dataset.version) > 0 &&
      el.getAttribute("aria-busy") !== "true";
  });
}
