import assert from "node:assert/strict";
import { startResendFake } from "../fakes/resend_server.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "@/lib/channels/resend.ts";
import { RateBudget } from "@/lib/channels/rate_budget.ts";
import { createEmailDispatcher } from "@/lib/channels/email.ts";
import { newId } from "@/lib/ids.ts";
import { noticeItem } from "../helpers/channel_fixtures.ts";

// DESIGN rule 7: a bad row is failed on its own. An address the provider
// refuses must not take the other users of the same batch down with it.
Deno.test("email batch: an address the provider refuses fails alone; the rest of the batch is delivered once", async () => {
  const fake = await startResendFake();
  try {
    const email = new RateLimitedEmailSender(
      new ResendEmailSender(fake.apiKey, "KiloClaw <n@example.com>", fake.url),
      new RateBudget(1000),
    );
    const dispatcher = createEmailDispatcher({
      email,
      publicUrl: "https://claw.example.com",
    });
    const items = [noticeItem(), noticeItem(), noticeItem()];
    fake.rejectAddresses.add(items[1].user.email);
    const groupId = newId();
    const send = () =>
      dispatcher.dispatch(items, {
        groupId,
        claimId: newId(),
        resend: false,
        signal: AbortSignal.timeout(10_000),
      });

    const outcomes = await send();
    assert.deepEqual(outcomes.map((o) => o.status), [
      "sent",
      "failed",
      "sent",
    ]);
    assert.match(
      outcomes[1].status === "failed" ? outcomes[1].error : "",
      /not allowed/,
    );
    assert.deepEqual(fake.delivered.map((d) => d.to[0]), [
      items[0].user.email,
      items[2].user.email,
    ]);
    // Each delivered row carries its own provider id.
    const ids = outcomes.flatMap((o) => o.status === "sent" ? [o.detail] : []);
    assert.deepEqual(ids, fake.delivered.map((d) => d.id));

    // The same batch sent again (a retry or recovery) delivers nothing new.
    assert.deepEqual((await send()).map((o) => o.status), [
      "sent",
      "failed",
      "sent",
    ]);
    assert.equal(fake.delivered.length, 2);
  } finally {
    await fake.close();
  }
});
