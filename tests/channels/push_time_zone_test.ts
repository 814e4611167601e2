import assert from "node:assert/strict";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

Deno.test("push texts: the time is the owner's own, with its zone's abbreviation; UTC without a zone", () => {
  const kolkata = pushTexts(noticeItem({ user: { timeZone: "Asia/Kolkata" } }));
  assert.match(kolkata.body, /^Restarting Mar 5, 20:00 IST\./);
  const none = pushTexts(noticeItem({ user: { timeZone: null } }));
  assert.match(none.body, /^Restarting Mar 5, 14:30 UTC\./);
});
