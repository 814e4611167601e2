import assert from "node:assert/strict";
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

// The admin's subject goes into a mail header: a line break typed or pasted
// into it must not start a new header line (Bcc:, Content-Type:, …).
Deno.test("email: the admin's subject is one line, whatever line breaks or control characters it holds", () => {
  const cases = [
    [
      "Maintenance\r\nBcc: everyone@example.com",
      "Maintenance Bcc: everyone@example.com",
    ],
    [
      "Maintenance\nContent-Type: text/html",
      "Maintenance Content-Type: text/html",
    ],
    ["Planned\u2028restart\u0000 \t tonight\u0085", "Planned restart tonight"],
  ];
  for (const [typed, expected] of cases) {
    const email = renderNoticeEmail(
      noticeItem({ action: { noticeSubject: typed } }),
      "https://claw.example.com",
    );
    assert.equal(email.subject, expected);
    assert.doesNotMatch(
      email.subject,
      /[\p{Cc}\u2028\u2029]/u,
    );
  }
  // Nothing left once the control characters are gone: the default subject.
  const blank = renderNoticeEmail(
    noticeItem({ action: { noticeSubject: "\r\n\u0000" } }),
    "https://claw.example.com",
  );
  assert.equal(blank.subject, "KiloClaw: Restart scheduled");
});
