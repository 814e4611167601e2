/**
 * Where owners find their settings: the workspace banner and every email's
 * footer (HTML and plain text) link to `/settings`; only notices and
 * reminders carry the unsubscribe link and headers.
 */
import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Banner } from "@/components/Banner.tsx";
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import type { NotificationKind } from "@/lib/types.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

const PUBLIC_URL = "https://claw.example.com";

Deno.test("the banner of a coming change links to the settings", () => {
  const html = renderToString(
    <Banner
      name="Research bot"
      status={{
        scheduledAction: {
          scheduledActionId: "a-1",
          actionType: "scheduled_restart",
          scheduledAt: "2030-01-02T03:00:00Z",
          targetImageTag: null,
          targetOpenclawVersion: null,
        },
      }}
      timeZone="UTC"
      now={Date.parse("2030-01-01T03:00:00Z")}
    />,
  );
  assert.match(
    html,
    /<a href="\/settings"[^>]*>Choose when and how you hear of changes<\/a>/,
  );
});

Deno.test("every email's footer links to the settings; warnings alone offer the unsubscribe", async (t) => {
  const kinds: [NotificationKind, boolean][] = [
    ["notice", true],
    ["reminder", true],
    ["rescheduled", false],
    ["cancelled", false],
    ["on_hold", false],
    ["done", false],
  ];
  for (const [kind, optional] of kinds) {
    await t.step(kind, () => {
      const item = noticeItem({ kind });
      item.unsubscribeToken = "sig.email.dXNlcg";
      const m = renderNoticeEmail(item, PUBLIC_URL);
      assert.match(m.html, /href="https:\/\/claw\.example\.com\/settings"/);
      assert.match(
        m.text,
        /Notification settings: https:\/\/claw\.example\.com\/settings/,
      );
      const link = `${PUBLIC_URL}/unsubscribe/sig.email.dXNlcg`;
      assert.equal(m.html.includes(link), optional);
      assert.equal(m.text.includes(`Stop these emails: ${link}`), optional);
      assert.deepEqual(
        m.headers,
        optional
          ? {
            "List-Unsubscribe": `<${link}>`,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
          }
          : undefined,
      );
    });
  }
});
