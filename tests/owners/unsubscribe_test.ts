/**
 * RFC 8058 one-click unsubscribe: warning emails carry List-Unsubscribe and
 * List-Unsubscribe-Post (at the provider and in the built-in outbox); a POST
 * to the link with no cookie and no Origin turns the owner's warning emails
 * off; a GET leads to the settings page; a tampered or foreign token changes
 * nothing and is a 4xx. Cancellations carry no such link.
 */
import assert from "node:assert/strict";
import { apiOk, createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import { seedCatalog } from "../helpers/scheduling.ts";
import { getOwnerSettings } from "@/lib/owners/settings.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { keys } from "@/lib/kv/keys.ts";

const HOUR = 3_600_000;

async function ownerWithBot(app: TestApp, name: string) {
  const id = `${name}-${crypto.randomUUID().slice(0, 6)}`;
  await apiOk(app, "PUT", `/api/admin/users/${id}`, {
    email: `${id}@example.test`,
    name,
  });
  await apiOk(app, "PUT", `/api/admin/instances/${id}-bot`, {
    name: `${name}'s bot`,
    ownerId: id,
    imageTag: "v1",
  });
  return { id, bot: `${id}-bot` };
}

async function warn(app: TestApp, bots: string[]) {
  const action = await apiOk(app, "POST", "/api/admin/scheduled-actions", {
    actionType: "scheduled_restart",
    instanceIds: bots,
    scheduledAt: new Date(Date.now() + 3 * HOUR).toISOString(),
    noticeChannels: ["email"],
  });
  await apiOk(app, "POST", "/api/admin/notices/sweep");
  return action;
}

const LINK = new RegExp(`^<(${ORIGIN}/unsubscribe/[\\w.-]+)>$`);

Deno.test("warning emails carry List-Unsubscribe at Resend; a cookie-less POST turns them off", async () => {
  const resend = await startResendFake();
  const app = await createTestApp({
    config: { resendApiKey: resend.apiKey, resendBaseUrl: resend.url },
  });
  try {
    await seedCatalog(app.kv);
    const o = await ownerWithBot(app, "Noor");
    const action = await warn(app, [o.bot]);
    assert.equal(resend.requests.length, 1);
    const sent = resend.requests[0].body as {
      headers?: Record<string, string>;
    };
    assert.equal(
      sent.headers?.["List-Unsubscribe-Post"],
      "List-Unsubscribe=One-Click",
    );
    const url = LINK.exec(sent.headers?.["List-Unsubscribe"] ?? "")?.[1];
    assert.ok(url, JSON.stringify(sent.headers));
    // The footer links the settings page and the same link.
    assert.match(
      resend.delivered[0].text,
      /Notification settings: http:\/\/localhost:8000\/settings/,
    );
    assert.ok(resend.delivered[0].html.includes(url));

    // A mail provider's POST: no cookie, no Origin, the RFC's body.
    const res = await app.request(new URL(url).pathname, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /You are unsubscribed/);
    assert.equal((await getOwnerSettings(app.kv, o.id)).channels.email, false);
    assert.equal(
      (await getOwnerSettings(app.kv, o.id)).channels.mobile_push,
      true,
    );
    // Again: the same answer, nothing else changes.
    const again = await app.request(new URL(url).pathname, { method: "POST" });
    assert.equal(again.status, 200);

    // The cancellation still arrives, and offers no unsubscribe.
    await apiOk(
      app,
      "POST",
      `/api/admin/scheduled-actions/${action.id}/cancel`,
    );
    await apiOk(app, "POST", "/api/admin/notices/sweep");
    assert.equal(resend.requests.length, 2);
    const cancel = resend.requests[1].body as {
      headers?: Record<string, string>;
    };
    assert.equal(cancel.headers, undefined);
    assert.match(resend.delivered[1].subject, /cancel/i);
  } finally {
    await app.close();
    await resend.close();
  }
});

Deno.test("the outbox keeps and shows the unsubscribe headers; GET leads to settings; a bad token is a 404 that writes nothing", async () => {
  const app = await createTestApp();
  try {
    await seedCatalog(app.kv);
    const a = await ownerWithBot(app, "Omar");
    const b = await ownerWithBot(app, "Pia");
    await warn(app, [a.bot, b.bot]);
    const emails = (await listOutbox(app.kv)).items.filter((m) =>
      m.kind === "email"
    );
    assert.equal(emails.length, 2);
    const linkOf = (to: string) => {
      const m = emails.find((e) => e.to === to.toLowerCase())!;
      assert.equal(m.kind, "email");
      if (m.kind !== "email") throw new Error("not an email");
      assert.equal(
        m.headers?.["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click",
      );
      return {
        id: m.id,
        path: new URL(LINK.exec(m.headers!["List-Unsubscribe"])![1]).pathname,
      };
    };
    const forA = linkOf(`${a.id}@example.test`);
    const forB = linkOf(`${b.id}@example.test`);
    assert.notEqual(forA.path, forB.path);

    const admin = await app.signIn({ admin: true });
    const page = await app.request(`/admin/outbox/${forA.id}`, {
      headers: { cookie: admin.cookie },
    });
    const html = await page.text();
    assert.match(html, /<dt>List-Unsubscribe<\/dt>/);
    assert.match(html, /List-Unsubscribe=One-Click/);

    // Opening the link in a browser: the settings page, which asks for sign-in.
    const open = await app.request(forA.path);
    assert.equal(open.status, 303);
    assert.equal(open.headers.get("location"), "/settings");
    assert.match(
      (await app.request("/settings")).headers.get("location") ?? "",
      /^\/login/,
    );

    const token = forA.path.split("/").pop()!;
    const [sig, channel, who] = token.split(".");
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    const forged = [
      `${flip(sig)}.${channel}.${who}`, // signature changed
      `${sig}.push.${who}`, // another channel under this signature
      `${sig}.${channel}.${forB.path.split(".").pop()}`, // another owner
      `${sig}.${channel}`, // cut short
      "nonsense",
    ];
    const before = await app.kv.get(keys.userSettings(a.id));
    for (const t of forged) {
      const res = await app.request(`/unsubscribe/${t}`, { method: "POST" });
      assert.equal(res.status, 404, t);
      assert.match(await res.text(), /This link is not valid/);
    }
    assert.equal(
      (await app.kv.get(keys.userSettings(a.id))).versionstamp,
      before.versionstamp,
    );
    assert.equal((await app.kv.get(keys.userSettings(b.id))).value, null);

    // A cross-site form POST is accepted here alone: the token is the authority.
    const fromElsewhere = await app.request(forB.path, {
      method: "POST",
      headers: {
        origin: "https://mail.example",
        "sec-fetch-site": "cross-site",
      },
    });
    assert.equal(fromElsewhere.status, 200);
    assert.equal((await getOwnerSettings(app.kv, b.id)).channels.email, false);
    assert.equal((await getOwnerSettings(app.kv, a.id)).channels.email, true);
  } finally {
    await app.close();
  }
});
