/**
 * The webhooks pages in Chromium: register an endpoint (its secret shown
 * once), send a test event, see it delivered in the log with its attempt and
 * the receiver's answer; a receiver that refuses shows its status there too.
 * axe finds nothing at 1280 and 375 px.
 */
import assert from "node:assert/strict";
import {
  expectAccessible,
  fleet,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { startWebhookReceiver } from "../fakes/webhook_receiver.ts";

Deno.test({
  name:
    "browser: register a webhook, send a test event, see it in the delivery log; 375 px; axe",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const receiver = startWebhookReceiver();
    const f = await fleet({ allowHttpWebhooks: true });
    try {
      await withBrowser(f.app, async (origin, browser) => {
        const ctx = await signedIn(browser, origin, f.admin.cookie);
        const page = await ctx.newPage();
        const errors = watch(page);
        await page.goto(`${origin}/admin`);
        await page.getByRole("link", { name: "Webhooks" }).click();
        await page.waitForURL(`${origin}/admin/webhooks`);
        await page.getByText("No endpoints yet.").waitFor();
        await expectAccessible(page, "the webhooks page, empty");

        // A bad URL says what is wrong and keeps what was typed.
        await page.getByLabel("URL").fill("http://hooks.example.com/x");
        await page.getByRole("button", { name: "Register endpoint" }).click();
        await page.getByRole("alert").filter({ hasText: "url:" }).waitFor();
        assert.match(
          await page.getByRole("alert").innerText(),
          /only to a loopback address/,
        );
        assert.equal(
          await page.getByLabel("URL").inputValue(),
          "http://hooks.example.com/x",
        );
        // The refused form answered 400 on purpose; Chromium logs that status.
        errors.length = 0;

        await page.getByLabel("URL").fill(receiver.url("/hooks/ui"));
        await page.getByRole("checkbox", { name: "action.failed" }).check();
        await page.getByRole("checkbox", { name: "action.completed" }).check();
        await page.getByRole("button", { name: "Register endpoint" }).click();
        const secret = await page.getByTestId("secret").innerText();
        assert.match(secret, /^whsec_/);
        receiver.register("/hooks/ui", secret);
        await expectAccessible(page, "the webhooks page, secret shown");

        // Shown once: the list and the endpoint's page never show it again.
        await page.goto(`${origin}/admin/webhooks`);
        assert.ok(!(await page.content()).includes(secret));
        const row = page.getByRole("row").filter({
          hasText: receiver.url("/hooks/ui"),
        });
        assert.match(
          await row.innerText(),
          /action\.completed, action\.failed/,
        );
        await row.getByRole("link").click();
        await page.getByText("Nothing sent yet.").waitFor();
        assert.ok(!(await page.content()).includes(secret));

        await page.getByRole("button", { name: "Send a test event" }).click();
        await page.getByText("Test event sent").waitFor();
        const delivery = page.getByTestId("delivery").first();
        const text = await delivery.innerText();
        assert.match(text, /webhook\.test/);
        assert.match(text, /delivered/);
        assert.match(text, /200/);
        assert.match(text, /\bok\b/);
        const [got] = receiver.processed("/hooks/ui");
        assert.equal(got.type, "webhook.test");
        assert.ok(text.includes(got.id), "the log names the webhook-id");
        await expectAccessible(page, "the delivery log");

        // A receiver that refuses: its status and answer in the log.
        receiver.script("/hooks/ui", { status: 400 });
        await page.getByRole("button", { name: "Send a test event" }).click();
        await page.getByText("Test event sent").waitFor();
        const refused = await page.getByTestId("delivery").first().innerText();
        assert.match(refused, /failed/);
        assert.match(refused, /400/);
        assert.match(refused, /scripted 400/);

        // At 375 px: cards, nothing off screen.
        const small = await signedIn(browser, origin, f.admin.cookie, {
          width: 375,
        });
        const phone = await small.newPage();
        await phone.goto(page.url());
        assert.ok(
          await phone.evaluate(() =>
            document.documentElement.scrollWidth <= globalThis.innerWidth
          ),
          "no sideways scrolling",
        );
        await expectAccessible(phone, "the delivery log at 375 px");
        await phone.goto(`${origin}/admin/webhooks`);
        await expectAccessible(phone, "the webhooks page at 375 px");
        await small.close();

        // Removing it.
        await page.getByRole("button", { name: "Remove endpoint" }).click();
        await page.getByText(`Removed ${receiver.url("/hooks/ui")}.`)
          .waitFor();
        await page.getByText("No endpoints yet.").waitFor();
        assert.deepEqual(errors, []);
        await ctx.close();
      });
    } finally {
      await receiver.close();
    }
  },
});
