/**
 * The audit as admins read it: each change in sentences (no stored field
 * names, no empty "reminderLeadHours:"), times in the viewer's zone under a
 * plain "When", and filters by the kind of change (by its label) and by the
 * admin's name or email.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN } from "../helpers/app.ts";
import { HOUR, seedCatalog } from "../helpers/scheduling.ts";
import { describeChange, sentenceText } from "@/lib/views/audit_words.ts";
import type { AuditEntry } from "@/lib/types.ts";

const entry = (
  change: AuditEntry["change"],
  details: Record<string, unknown>,
): AuditEntry => ({
  id: "e1",
  at: "2026-12-07T10:00:00.000Z",
  actor: { id: "u1", email: "ada@example.com" },
  via: "session",
  change,
  subject: { type: "action", id: "a1" },
  related: [],
  details,
});

const said = (e: AuditEntry) => describeChange(e).map(sentenceText);

Deno.test("audit words: every kind of change reads as sentences", () => {
  assert.deepEqual(
    said(entry("action.schedule", {
      actionType: "version_change",
      imageTag: "2026.11.2",
      scheduledAt: "2026-12-08T03:00:00.000Z",
      targets: 3,
      notify: true,
      noticeLeadHours: 24,
      noticeChannels: ["email", "webapp", "mobile_push"],
      reminderLeadHours: [],
      doneChannels: [],
    })),
    [
      "A version change to 2026.11.2 of 3 instances at 2026-12-08T03:00:00.000Z",
      "Notice 24 h ahead by email, banner and push",
    ],
  );
  assert.deepEqual(
    said(entry("action.schedule", {
      actionType: "scheduled_restart",
      imageTag: null,
      scheduledAt: "2026-12-08T03:00:00.000Z",
      targets: 1,
      notify: true,
      noticeLeadHours: 72,
      noticeChannels: ["email"],
      reminderLeadHours: [24, 1],
      doneChannels: ["mobile_push"],
    })),
    [
      "A restart of 1 instance at 2026-12-08T03:00:00.000Z",
      "Notice 72 h ahead by email",
      "Reminders 24 h and 1 h ahead",
      "Owners told how it went by push",
    ],
  );
  assert.deepEqual(
    said(entry("action.reschedule", {
      scheduledAt: ["2026-12-08T03:00:00.000Z", "2026-12-09T03:00:00.000Z"],
      noticeLeadHours: [24, 12],
      moved: 2,
      notMoved: 1,
      inFlight: 0,
    })),
    [
      "Moved from 2026-12-08T03:00:00.000Z to 2026-12-09T03:00:00.000Z",
      "Notice changed from 24 h to 12 h ahead",
      "2 instances moved, 1 instance already done or cancelled",
    ],
  );
  assert.deepEqual(
    said(entry("action.cancel", { status: ["scheduled", "cancelled"] })),
    ["It was scheduled; now cancelled"],
  );
  assert.deepEqual(
    said(entry("instance.put", {
      name: ["Bot A", "Bot B"],
      pinnedImageTag: [null, "2026.11.1"],
    })),
    ["Name changed from Bot A to Bot B", "Pinned to set to 2026.11.1"],
  );
  assert.deepEqual(
    said(entry("catalog.put", { available: [true, false] })),
    ["Available changed from yes to no"],
  );
  // An owner's postpone: no target id, no bare field names.
  assert.deepEqual(
    said(entry("target.postpone", {
      targetId: "t1",
      scheduledAt: ["2026-12-08T03:00:00.000Z", "2026-12-09T03:00:00.000Z"],
      postpones: 2,
    })),
    [
      "Postponed from 2026-12-08T03:00:00.000Z to 2026-12-09T03:00:00.000Z",
      "Postponed 2 times so far",
    ],
  );
  assert.deepEqual(
    said(entry("target.postpone", {
      targetId: "t1",
      scheduledAt: ["2026-12-08T03:00:00.000Z", "2026-12-09T03:00:00.000Z"],
      postpones: 1,
    }))[1],
    "Its first postpone",
  );
  assert.deepEqual(
    said(entry("user.delete", { email: "gone@example.com" })),
    ["Deleted gone@example.com"],
  );
  // Times stay times, for the page to write in the viewer's zone.
  assert.deepEqual(
    describeChange(entry("action.reschedule", {
      scheduledAt: ["2026-12-08T03:00:00.000Z", "2026-12-09T03:00:00.000Z"],
    }))[0],
    [
      "Moved from ",
      { at: "2026-12-08T03:00:00.000Z" },
      " to ",
      { at: "2026-12-09T03:00:00.000Z" },
    ],
  );
});

Deno.test("audit page: sentences, a plain 'When', filters by change label and admin name or email", async () => {
  const app = await createTestApp({
    config: { adminEmails: ["ada@example.com"] },
  });
  try {
    await seedCatalog(app.kv);
    const ada = await app.signIn({
      email: "ada@example.com",
      name: "Ada Admin",
    });
    await app.api("PUT", "/api/admin/users/owner-1", {
      email: "owner-1@example.com",
    });
    await app.api("PUT", "/api/admin/instances/bot-1", {
      name: "Bot one",
      ownerId: "owner-1",
      imageTag: "v1",
    });
    const res = await app.request("/api/admin/scheduled-actions", {
      method: "POST",
      headers: {
        cookie: ada.cookie,
        origin: ORIGIN,
        "x-csrf-token": ada.csrfToken,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        actionType: "scheduled_restart",
        instanceIds: ["bot-1"],
        scheduledAt: new Date(Date.now() + 2 * HOUR).toISOString(),
      }),
    });
    assert.equal(res.status, 201);

    const page = async (query: string, status = 200) => {
      const r = await app.request(`/admin/audit${query}`, {
        headers: { cookie: ada.cookie },
      });
      assert.equal(r.status, status, query);
      return await r.text();
    };
    const all = await page("");
    assert.match(all, /<th>When<\/th>/);
    assert.doesNotMatch(all, /When \(UTC\)/);
    assert.match(all, /A restart of 1 instance at/);
    assert.match(all, /Notice 24 h ahead by email/);
    assert.match(all, /Name set to Bot one/);
    assert.doesNotMatch(all, /reminderLeadHours|doneChannels|noticeChannels/);
    // Subjects by name, linked by id.
    const { id } = await res.json();
    assert.match(
      all,
      new RegExp(`Action <a href="/admin/actions/${id}">Restart</a>`),
    );
    assert.match(
      all,
      /Instance <a href="\/admin\/instances\/bot-1">Bot one<\/a>/,
    );
    // The change filter offers labels, and the admin field suggests Ada by name.
    assert.match(
      all,
      /<option value="action.schedule">Scheduled an action<\/option>/,
    );
    assert.match(all, /<option value="Ada Admin &lt;ada@example.com(&gt;|>)">/);
    assert.doesNotMatch(all, /Admin id/);

    const changes = (html: string) =>
      [...html.matchAll(/data-change="([^"]+)"/g)].map((m) => m[1]);
    for (
      const who of [
        "Ada Admin",
        "ADA@example.com",
        "Ada Admin <ada@example.com>",
      ]
    ) {
      assert.deepEqual(
        changes(await page(`?admin=${encodeURIComponent(who)}`)),
        ["action.schedule"],
        who,
      );
    }
    assert.deepEqual(changes(await page("?admin=API+token")), [
      "instance.put",
      "user.put",
    ]);
    assert.deepEqual(
      changes(await page("?change=instance.put&admin=API+token")),
      ["instance.put"],
    );
    const unknown = await page("?admin=Nobody", 400);
    assert.match(unknown, /Nobody/);
  } finally {
    await app.close();
  }
});
