/**
 * An outbox message's page names its facts in the page's own words (Kind:
 * Email) and keeps the provider's raw tags apart, under "Tags", so a tag
 * called "kind" never sits beside the page's "Kind" as a second answer.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { OutboxEmailSender } from "@/lib/channels/outbox.ts";

Deno.test("outbox message page: Kind in words, the provider's tags listed under Tags", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({ admin: true });
    const sent = await new OutboxEmailSender(app.kv).send({
      to: "maya@example.com",
      subject: "KiloClaw: Restart scheduled",
      html: "<p>Your bot will restart.</p>",
      text: "Your bot will restart.",
      tags: { kind: "notice", rows: "2" },
    });
    assert.ok(sent.ok && sent.id);
    const res = await app.request(`/admin/outbox/${sent.id}`, {
      headers: { cookie: admin.cookie },
    });
    assert.equal(res.status, 200);
    const facts = (await res.text()).match(/<dl class="facts">(.*?)<\/dl>/s)
      ?.[1] ?? "";
    const terms = [...facts.matchAll(/<dt>(.*?)<\/dt>/g)].map((m) => m[1]);
    assert.deepEqual(terms, ["Kind", "To", "When", "Tags"]);
    assert.match(facts, /<dt>Kind<\/dt><dd>Email<\/dd>/);
    assert.match(facts, /<code>kind: notice<\/code>/);
    assert.match(facts, /<code>rows: 2<\/code>/);
  } finally {
    await app.close();
  }
});
