/**
 * "Add to calendar": the notice email's signed .ics link, fetched with no
 * sign-in; a move updates the event (same UID, higher SEQUENCE), a cancel
 * cancels it, and the link expires with the action.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../helpers/app.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { listOutbox, type OutboxEmail } from "@/lib/channels/outbox.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2030-05-06T08:00:00Z");

async function call(
  app: TestApp,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await app.api(method, path, body);
  return { status: res.status, body: await res.json() };
}

async function fetchIcs(app: TestApp, url: string) {
  const res = await app.request(new URL(url).pathname);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    text: await res.text(),
  };
}

const field = (ics: string, name: string) =>
  ics.split("\r\n").find((l) => l.startsWith(`${name}:`))?.slice(
    name.length + 1,
  );

Deno.test("calendar: the notice links an event that follows moves and cancels, then expires", async () => {
  const clock = { t: T0 };
  const app = await createTestApp({ context: { now: () => clock.t } });
  try {
    await seedCatalog(app.kv);
    const owner = await app.signIn({ email: "cal@example.com" });
    await call(app, "PUT", "/api/admin/instances/cal-bot", {
      name: "Cal bot",
      ownerId: owner.user.id,
      imageTag: "v1",
    });
    const created = await call(app, "POST", "/api/admin/scheduled-actions", {
      actionType: "version_change",
      imageTag: "v2",
      instanceIds: ["cal-bot"],
      scheduledAt: new Date(T0 + 3 * HOUR).toISOString(),
      noticeChannels: ["email"],
    });
    const id = created.body.id;
    await call(app, "POST", "/api/admin/notices/sweep");
    const mail = (await listOutbox(app.kv)).items.find((m) =>
      m.kind === "email"
    ) as OutboxEmail;
    const link = /Add to calendar: (\S+\.ics)/.exec(mail.text)?.[1];
    assert.ok(link, "the notice email carries a calendar link");
    assert.match(mail.html, /Add to calendar/);

    // No cookie, no token: the signed link is enough.
    const first = await fetchIcs(app, link);
    assert.equal(first.status, 200);
    assert.match(first.type!, /^text\/calendar/);
    assert.equal(field(first.text, "DTSTART"), "20300506T110000Z");
    assert.equal(field(first.text, "SEQUENCE"), "0");
    assert.equal(field(first.text, "STATUS"), "CONFIRMED");
    assert.match(
      first.text,
      /SUMMARY:KiloClaw: Cal bot – upgrade to OpenClaw 2\.0\.0/,
    );
    const uid = field(first.text, "UID");

    // A tampered token or another target's link answers like nothing is there.
    const bad = await fetchIcs(
      app,
      link.replace(/[A-Za-z0-9_-](?=\.ics$)/, (c) => c === "A" ? "B" : "A"),
    );
    assert.equal(bad.status, 404);

    await call(app, "POST", `/api/admin/scheduled-actions/${id}/reschedule`, {
      scheduledAt: new Date(T0 + 30 * HOUR).toISOString(),
    });
    const moved = await fetchIcs(app, link);
    assert.equal(field(moved.text, "UID"), uid);
    assert.equal(field(moved.text, "SEQUENCE"), "1");
    assert.equal(field(moved.text, "DTSTART"), "20300507T140000Z");
    // The moved notice links the same event.
    await call(app, "POST", "/api/admin/notices/sweep");
    const movedMail = (await listOutbox(app.kv)).items.find((m) =>
      m.kind === "email" && m.subject === "KiloClaw: Version change moved"
    ) as OutboxEmail;
    assert.ok(movedMail.text.includes(link));

    await call(app, "POST", `/api/admin/scheduled-actions/${id}/cancel`);
    const cancelled = await fetchIcs(app, link);
    assert.equal(field(cancelled.text, "UID"), uid);
    assert.equal(field(cancelled.text, "STATUS"), "CANCELLED");
    assert.equal(field(cancelled.text, "METHOD"), "CANCEL");
    assert.equal(field(cancelled.text, "SEQUENCE"), "2");

    clock.t = T0 + 30 * HOUR + 25 * HOUR;
    assert.equal((await fetchIcs(app, link)).status, 410);
  } finally {
    await app.close();
  }
});
