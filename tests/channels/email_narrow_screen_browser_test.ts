import assert from "node:assert/strict";
import { withPage } from "../helpers/browser.ts";
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import { renderLoginEmail } from "@/lib/channels/email_templates/LoginEmail.tsx";
import { noticeItem } from "../helpers/channel_fixtures.ts";

// A phone's mail app is about 320 px wide. Long links and other unbroken
// text (the sign-in link, a URL in the admin's message, a long name) must
// wrap instead of pushing the email off the side of the screen.
Deno.test("emails fit a 320 px wide screen, long links and names included", async () => {
  const longLink = "https://status.example.com/incidents/2026-03-05/" +
    "planned_maintenance_window_for_every_region";
  const user = { name: "Ada", timeZone: "America/Los_Angeles" };
  const action = {
    noticeBody: `Details and progress: ${longLink}\nThank you.`,
  };
  const instance = { name: "ResearchAssistantForQuarterlyPlanningProduction" };
  const emails: [string, string][] = [];
  for (const actionType of ["scheduled_restart", "version_change"] as const) {
    for (const kind of ["notice", "cancelled"] as const) {
      const item = noticeItem({ actionType, kind, user, action, instance });
      emails.push([
        `${actionType} ${kind}`,
        renderNoticeEmail(item, "https://claw.example.com").html,
      ]);
    }
  }
  emails.push([
    "sign-in",
    renderLoginEmail({
      name: "Ada",
      link: "https://claw.example.com/login/" +
        "Qm9vbGVhbnNBcmVGdW5Ub1BsYXlXaXRoQW5kVGhlbk",
      minutes: 15,
    }).html,
  ]);
  await withPage(async (page) => {
    await page.setViewportSize({ width: 320, height: 640 });
    for (const [name, html] of emails) {
      await page.setContent(html);
      const width = await page.evaluate(() =>
        document.documentElement.scrollWidth
      );
      assert.ok(width <= 320, `${name}: ${width} px wide`);
    }
  });
});
