/**
 * The schedule page refuses to commit a form whose review changed, and says
 * so in the same words on the page and in its JSON answer; a form that
 * matches its review schedules, a reason typed after the review included.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { ORIGIN } from "../helpers/app.ts";
import { seedCatalog, seedInstances } from "../helpers/scheduling.ts";
import { REVIEW_CHANGED } from "@/lib/views/form_model.ts";
import { listActions } from "@/lib/views/action_reads.ts";

Deno.test("schedule page: a changed review is refused with one message, in the page and in JSON", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const [inst] = await seedInstances(app.kv, 1);
    const admin = await app.signIn({ admin: true });
    const post = (fields: Record<string, string>, json: boolean) =>
      app.request("/admin/actions/new", {
        method: "POST",
        headers: {
          cookie: admin.cookie,
          origin: ORIGIN,
          "content-type": "application/x-www-form-urlencoded",
          ...(json ? { accept: "application/json" } : {}),
        },
        body: new URLSearchParams({
          _csrf: admin.csrfToken,
          actionType: "scheduled_restart",
          targets: "ids",
          instanceId: inst.id,
          when: "at",
          scheduledAt: new Date(Date.now() + 30 * 3_600_000).toISOString()
            .slice(0, 16),
          timeZone: "UTC",
          notify: "on",
          noticeLeadHours: "24",
          noticeChannels: "email",
          ...fields,
        }),
      });

    const reviewed = await post({ intent: "preview" }, true);
    assert.equal(reviewed.status, 200);
    const { preview } = await reviewed.json();
    assert.ok(preview.ready);

    // The subject changed after the review: what would be sent is not what was shown.
    const changed = { intent: "schedule", reviewed: preview.fingerprint };
    const asJson = await post({ ...changed, noticeSubject: "Tonight" }, true);
    assert.equal(asJson.status, 409);
    assert.equal((await asJson.json()).notice, REVIEW_CHANGED);
    const asPage = await post({ ...changed, noticeSubject: "Tonight" }, false);
    assert.equal(asPage.status, 409);
    assert.ok((await asPage.text()).includes(REVIEW_CHANGED));
    assert.equal((await listActions(app.kv)).items.length, 0);

    // A reason is not in the review: writing one after it still schedules.
    const withReason = await post(
      { ...changed, reason: "kernel patch" },
      false,
    );
    assert.equal(withReason.status, 303);
    const [action] = (await listActions(app.kv)).items;
    assert.equal(action.action.reason, "kernel patch");
  } finally {
    await app.close();
  }
});
