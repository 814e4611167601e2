import assert from "node:assert/strict";
import { createTestApp, TEST_INTERNAL_SECRET } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import {
  RateLimitedEmailSender,
  ResendEmailSender,
} from "@/lib/channels/resend.ts";
import { RateBudget } from "@/lib/channels/rate_budget.ts";
import {
  ITEM_NOW,
  noticeItem,
  storeHeldItem,
} from "../helpers/channel_fixtures.ts";
import type { Channel } from "@/lib/types.ts";

// The route emails a row only when the row itself is an email row: a user
// the admin chose to reach by push or banner only never gets an email,
// whatever the request says.
Deno.test("internal route: a push or banner row is never emailed (400 naming the row's channel)", async () => {
  const fake = await startResendFake();
  const app = await createTestApp({
    context: {
      now: () => ITEM_NOW,
      email: new RateLimitedEmailSender(
        new ResendEmailSender(
          fake.apiKey,
          "KiloClaw <n@example.com>",
          fake.url,
        ),
        new RateBudget(1000),
      ),
    },
  });
  try {
    for (const channel of ["mobile_push", "webapp"] as Channel[]) {
      const item = noticeItem();
      item.notification.channel = channel;
      const { claimId } = await storeHeldItem(app.kv, item);
      const res = await app.request(
        "/api/internal/scheduled-action-side-effects",
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-internal-secret": TEST_INTERNAL_SECRET,
          },
          body: JSON.stringify({
            notificationId: item.notification.id,
            channel: "email",
            claimId,
          }),
        },
      );
      assert.equal(res.status, 400, channel);
      assert.match((await res.json()).error, new RegExp(`"${channel}"`));
    }
    assert.equal(fake.requests.length, 0);
  } finally {
    await app.close();
    await fake.close();
  }
});
