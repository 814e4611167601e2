/**
 * Review before commit: the counts, who is left out and why, "skip those"
 * instead of a 409, the email as the chosen owner will get it — and that it
 * is the email the sweep then sends — and "send a test to me".
 */
import assert from "node:assert/strict";
import {
  afterReview,
  expectAccessible,
  fleet,
  hydrated,
  NEW_TAG,
  signedIn,
  watch,
  withBrowser,
} from "../helpers/e2e.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { getActionDetail } from "@/lib/views/action_reads.ts";

Deno.test({
  name:
    "browser: the review's counts and email are what is sent; skip those; a test to me",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const f = await fleet();
    await putInstance(f.app.kv, "gone-bot", {
      name: "Gone bot",
      ownerId: f.tom.user.id,
      imageTag: "2026.11.1",
      status: "destroyed",
    });
    // Another action already holds Maya's research assistant.
    const held = await f.app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [f.ids["Maya's research assistant"]],
      scheduledAt: new Date(Date.now() + 5 * 3_600_000).toISOString(),
    });
    assert.equal(held.status, 201);
    const holderId = (await held.json()).id;

    await withBrowser(f.app, async (origin, browser) => {
      const ctx = await signedIn(browser, origin, f.admin.cookie);
      const page = await ctx.newPage();
      const errors = watch(page);
      const chosen = [
        f.ids["Maya's support bot"],
        f.ids["Maya's research assistant"],
        f.ids["Tom's sales bot"],
        "gone-bot",
      ];
      await page.goto(
        `${origin}/admin/actions/new?type=version_change&${
          chosen.map((id) => `instanceId=${id}`).join("&")
        }`,
      );
      await hydrated(page);
      await page.getByLabel("Email subject").fill("Your bot gets 1.9.0");
      // Longer than the time left: the notices go out with the sweep below.
      await page.getByLabel("Hours of notice").fill("48");
      await afterReview(
        page,
        () => page.getByRole("button", { name: "Review", exact: true }).click(),
      );
      assert.match(
        await page.getByTestId("review-headline").innerText(),
        /^Change 2 instances of 2 owners to OpenClaw 1\.9\.0 at /,
      );
      const leftOut = await page.getByTestId("left-out").innerText();
      assert.match(leftOut, /Left out: 2 instances of 4/);
      assert.match(leftOut, /1 destroyed: Gone bot/);
      assert.match(
        leftOut,
        /1 already has a pending action:\s+Maya's research assistant — Restart at /,
      );
      assert.equal(
        await page.getByRole("link", { name: /^Restart at / }).getAttribute(
          "href",
        ),
        `/admin/actions/${holderId}`,
      );
      // Without an answer to the held instance there is nothing to commit.
      assert.equal(await page.getByTestId("schedule").count(), 0);
      await expectAccessible(page, "the review with instances left out");

      await afterReview(page, () => page.getByTestId("skip-pending").click());
      assert.match(
        await page.getByTestId("left-out").innerText(),
        /1 already has a pending action and will be skipped/,
      );

      // Tom's view: his zone is UTC, he has a phone.
      await afterReview(
        page,
        () =>
          page.getByLabel("What they read, as").selectOption({
            label: `Tom Okafor <${f.tom.user.email}> — UTC`,
          }),
      );
      assert.equal(
        await page.getByTestId("preview-subject").innerText(),
        "Your bot gets 1.9.0",
      );
      const frameUrl = await page.getByTestId("preview-email").getAttribute(
        "src",
      );
      const reviewed = await (await page.request.get(`${origin}${frameUrl}`))
        .text();
      assert.match(reviewed, /Hi Tom,/);
      assert.match(
        reviewed,
        /will change\s+<strong>from OpenClaw 1\.8\.2 to OpenClaw 1\.9\.0<\/strong>/,
      );
      assert.match(
        await page.getByTestId("preview-push").innerText(),
        /Tom's sales bot will upgrade soon/,
      );
      assert.match(
        await page.getByTestId("preview-banner").innerText(),
        /Your bot Tom's sales bot will upgrade to OpenClaw 1\.9\.0 at .* UTC \(in /,
      );

      await page.getByRole("button", { name: "Send a test to me" }).click();
      await page.getByTestId("test-result").filter({ hasText: "Test sent" })
        .waitFor();
      const test = (await listOutbox(f.app.kv)).items.find((m) =>
        m.kind === "email" && m.to === f.admin.user.email
      );
      assert.ok(test && test.kind === "email");
      assert.equal(test.subject, "[Test] Your bot gets 1.9.0");
      assert.equal(test.html, reviewed);

      await page.getByTestId("schedule").click();
      await page.waitForURL(/\/admin\/actions\/[0-9a-f-]{36}\?scheduled=1/);
      assert.match(
        await page.locator(".flash").innerText(),
        /Scheduled for 2 instances\. Left out: 1 already had a pending action, 1 destroyed\./,
      );
      const id = new URL(page.url()).pathname.split("/").pop()!;
      assert.equal((await getActionDetail(f.app.kv, id)).counters.total, 2);
      await hydrated(page, ".action-live[data-enhanced]");
      await page.getByRole("button", { name: "Run notice sweep now" }).click();
      await page.getByTestId("notice-counts").locator(
        'tr[data-channel="email"]',
      )
        .filter({ hasText: /^Email\s*2\s*0\s*0\s*0$/ }).waitFor();
      const sent = (await listOutbox(f.app.kv)).items.find((m) =>
        m.kind === "email" && m.to === f.tom.user.email
      );
      assert.ok(sent && sent.kind === "email", "Tom's email went out");
      assert.equal(sent.subject, "Your bot gets 1.9.0");
      // The reviewed email is the sent one, "Add to calendar" included; only
      // the link names the scheduled target, which the review had not yet.
      const link = (html: string) => html.match(/http\S+?\.ics/)?.[0];
      assert.match(reviewed, />Add to calendar</);
      assert.equal(
        sent.html.replaceAll(link(sent.html)!, link(reviewed)!),
        reviewed,
      );
      assert.equal(NEW_TAG, "2026.11.2");
      assert.deepEqual(errors, []);
    });
  },
});
