/**
 * What a sweep of 100 due emails costs before the network: rendering, and the
 * outbox storing a batch. Run: deno bench -A --no-check tests/bench/email_bench.ts
 */
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import { OutboxEmailSender } from "@/lib/channels/outbox.ts";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { RateBudget } from "@/lib/channels/rate_budget.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

const items = Array.from({ length: 100 }, (_, i) =>
  noticeItem({
    actionType: i % 2 ? "version_change" : "scheduled_restart",
    user: { timeZone: i % 3 ? "Europe/Berlin" : null },
    action: { noticeBody: "Planned maintenance.\nThanks for your patience." },
  }));
const kv = await Deno.openKv(":memory:");
const outbox = new OutboxEmailSender(kv);

Deno.bench("render 100 notice emails", () => {
  for (const item of items) renderNoticeEmail(item, "https://claw.example.com");
});

Deno.bench("push texts for 100 rows", () => {
  for (const item of items) pushTexts(item);
});

const rendered = items.map((i) =>
  renderNoticeEmail(i, "https://claw.example.com")
);
Deno.bench("outbox: store a batch of 100 emails", async () => {
  await outbox.sendBatch(rendered, { idempotencyKey: crypto.randomUUID() });
});

// Ten takes at 100/s should cost about 90 ms: the budget spaces calls evenly.
Deno.bench("rate budget: 10 calls at 100/s", async () => {
  const budget = new RateBudget(100);
  for (let i = 0; i < 10; i++) await budget.take();
});
