import assert from "node:assert/strict";
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

const PUBLIC_URL = "https://claw.example.com";

Deno.test("email: each action type and kind gets its own template and default subject", () => {
  const cases = [
    [
      "scheduled_restart",
      "notice",
      "KiloClaw: Restart scheduled",
      /will restart on/,
    ],
    [
      "version_change",
      "notice",
      "KiloClaw: Version change scheduled",
      /will change from image tag 2026\.02\.1 to OpenClaw 1\.8\.2 on/,
    ],
    [
      "scheduled_restart",
      "cancelled",
      "KiloClaw: Restart cancelled",
      /restart of your KiloClaw bot .* has been cancelled/s,
    ],
    [
      "version_change",
      "cancelled",
      "KiloClaw: Version change cancelled",
      /has been cancelled\. It stays on image tag 2026\.02\.1/,
    ],
  ] as const;
  for (const [actionType, kind, subject, wording] of cases) {
    const email = renderNoticeEmail(
      noticeItem({ actionType, kind }),
      PUBLIC_URL,
    );
    assert.equal(email.subject, subject, `${actionType} ${kind}`);
    assert.match(email.text, wording, `${actionType} ${kind} text`);
    assert.match(
      email.html.replace(/<[^>]+>/g, ""),
      wording,
      `${actionType} ${kind} html`,
    );
  }
});

Deno.test("email: the admin's subject replaces the default for notices only", () => {
  const action = { noticeSubject: "Maintenance this Thursday" };
  const notice = renderNoticeEmail(noticeItem({ action }), PUBLIC_URL);
  const cancelled = renderNoticeEmail(
    noticeItem({ action, kind: "cancelled" }),
    PUBLIC_URL,
  );
  assert.equal(notice.subject, "Maintenance this Thursday");
  assert.equal(cancelled.subject, "KiloClaw: Restart cancelled");
});

Deno.test("email: greeting, instance name, times and workspace link", async (t) => {
  await t.step("first name, UTC time, link to the workspace page", () => {
    const item = noticeItem({ user: { name: "Ada Lovelace" } });
    const email = renderNoticeEmail(item, PUBLIC_URL);
    const link = `${PUBLIC_URL}/claw/${item.notification.instanceId}`;
    for (const part of [email.text, email.html]) {
      assert.match(part, /Hi Ada,/);
      assert.match(part, /Research bot/);
      assert.match(part, /Thu, Mar 5, 2026, 14:30 UTC/);
      assert.ok(part.includes(link), "links to the workspace");
    }
    assert.equal(email.to, item.user.email);
    assert.doesNotMatch(email.text, /\(Mar|Europe/);
  });
  await t.step("no name: 'there'; no instance record: its id", () => {
    const item = noticeItem({ user: { name: null }, instance: null });
    const email = renderNoticeEmail(item, PUBLIC_URL);
    assert.match(email.text, /^Hi there,/);
    assert.ok(
      email.text.includes(
        `bot ${item.notification.instanceId} will restart`,
      ),
    );
  });
  await t.step("a user with a time zone reads it there, UTC beside it", () => {
    const email = renderNoticeEmail(
      noticeItem({ user: { timeZone: "Europe/Berlin" } }),
      PUBLIC_URL,
    );
    assert.match(email.text, /Thu, Mar 5, 2026, 15:30 CET \(14:30 UTC\)/);
    assert.match(
      email.html,
      /Thu, Mar 5, 2026, 15:30 CET<\/strong> \(14:30 UTC\)/,
    );
  });
  await t.step(
    "an unknown time zone is left out rather than failing the email",
    () => {
      const email = renderNoticeEmail(
        noticeItem({ user: { timeZone: "Mars/Olympus" } }),
        PUBLIC_URL,
      );
      assert.doesNotMatch(email.text, /Mars/);
    },
  );
});

Deno.test("email: version emails say from which OpenClaw version to which", () => {
  const email = renderNoticeEmail(
    {
      ...noticeItem({
        actionType: "version_change",
        targetImageTag: "2026.04.2",
        openclawVersion: "1.9.0",
      }),
      sourceOpenclawVersion: "1.8.2",
    },
    PUBLIC_URL,
  );
  for (const part of [email.text, email.html.replace(/<[^>]+>/g, "")]) {
    assert.match(
      part,
      /will change from OpenClaw 1\.8\.2 to OpenClaw 1\.9\.0 on/,
    );
    assert.match(part, /New image tag: 2026\.04\.2/);
  }
  const unknown = renderNoticeEmail(
    noticeItem({
      actionType: "version_change",
      kind: "cancelled",
      targetImageTag: "2026.04.3",
      openclawVersion: null,
    }),
    PUBLIC_URL,
  );
  assert.match(
    unknown.text,
    /from image tag 2026\.02\.1 to image tag 2026\.04\.3 planned/,
  );
  assert.doesNotMatch(unknown.text + unknown.html, /null|undefined/);
});

Deno.test("email: the admin's message arrives as inert text with its line breaks", () => {
  const noticeBody = `Heads up!\n<script>alert("x")</script>\nThanks & bye`;
  const email = renderNoticeEmail(
    noticeItem({ action: { noticeBody } }),
    PUBLIC_URL,
  );
  assert.doesNotMatch(email.html, /<script/i);
  assert.match(
    email.html,
    /Heads up!<br\/?>&lt;script>alert\(&quot;x&quot;\)&lt;\/script><br\/?>Thanks &amp; bye/,
  );
  assert.ok(
    email.text.includes(noticeBody),
    "the text part keeps the message as typed",
  );
  const cancelled = renderNoticeEmail(
    noticeItem({ action: { noticeBody }, kind: "cancelled" }),
    PUBLIC_URL,
  );
  assert.doesNotMatch(
    cancelled.text,
    /Heads up/,
    "cancellations do not repeat the notice's message",
  );
});
