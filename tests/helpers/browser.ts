// Launches Debian's Chromium through playwright-core for browser tests. A missing
// browser is a failure with a clear message, never a skipped test.
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") ??
  "/usr/bin/chromium";

// Without the networking flags Chromium keeps calling hosts this machine cannot reach.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: browser tests need it ` +
        "(apt-get install -y chromium, or set CHROMIUM_PATH).",
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
  });
}

export interface PageOptions {
  /**
   * Fail when the page throws, logs a console error or a subresource (script,
   * stylesheet, fetch; not the page itself nor /favicon.ico) answers >= 400. Default true.
   */
  failOnPageErrors?: boolean;
}

/**
 * Runs `fn` with a fresh page in a fresh browser, closed afterwards. Uncaught page
 * errors and console errors fail the test unless `failOnPageErrors` is false.
 */
export async function withPage<T>(
  fn: (page: Page, browser: Browser) => Promise<T>,
  options: PageOptions = {},
): Promise<T> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on(
      "pageerror",
      (error) => errors.push(`page error: ${error.message}`),
    );
    page.on("console", (message) => {
      // Failed loads are reported below, with their URL.
      if (
        message.type() === "error" &&
        !message.text().startsWith("Failed to load resource")
      ) {
        errors.push(`console error: ${message.text()}`);
      }
    });
    page.on("response", (response) => {
      const request = response.request();
      const url = new URL(response.url());
      if (
        response.status() >= 400 && request.resourceType() !== "document" &&
        url.pathname !== "/favicon.ico"
      ) {
        errors.push(
          `${response.status()} for ${request.resourceType()} ${response.url()}`,
        );
      }
    });
    const result = await fn(page, browser);
    if (errors.length && options.failOnPageErrors !== false) {
      throw new Error(`The page reported errors:\n${errors.join("\n")}`);
    }
    return result;
  } finally {
    await browser.close();
  }
}

export { withServer } from "./server.ts";
