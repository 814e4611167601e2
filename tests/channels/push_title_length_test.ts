import assert from "node:assert/strict";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

// Instance names may be up to 120 characters; a phone shows at most about
// 100 of a title, so the title is held to 100 like the body.
Deno.test("push texts: a long instance name keeps every title within 100 characters", () => {
  const name = "Research assistant for the quarterly planning " +
    "x".repeat(120 - 46);
  assert.equal(name.length, 120);
  const events = [
    ["scheduled_restart", "notice", / will restart soon$/],
    ["version_change", "notice", / will upgrade soon$/],
    ["scheduled_restart", "cancelled", /: restart cancelled$/],
    ["version_change", "cancelled", /: upgrade cancelled$/],
  ] as const;
  for (const [actionType, kind, ending] of events) {
    const { title, body } = pushTexts(
      noticeItem({ actionType, kind, instance: { name } }),
    );
    assert.ok(title.length <= 100, `${actionType} ${kind}: ${title.length}`);
    assert.ok(body.length <= 100);
    // What the event is stays readable: the name is what gets shortened.
    assert.match(title, ending);
    assert.ok(title.startsWith("Research assistant"), title);
  }
});
