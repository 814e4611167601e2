/**
 * In outbox mode an admin reading the outbox must not be handed other
 * people's live sign-in links: a sign-in email's token is hidden from every
 * viewer but its addressee, the hidden link signs nobody in, and the real
 * link still works for its owner.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { HIDDEN_TOKEN, listOutbox } from "@/lib/channels/outbox.ts";
import { putUser } from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";

async function askForLink(app: TestApp, email: string) {
  const res = await app.request("/login", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: ORIGIN,
    },
    body: new URLSearchParams({ email }).toString(),
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  await app.queueIdle();
  const mail = (await listOutbox(app.kv, { limit: 50 })).items.find((m) =>
    m.kind === "email" && m.to === email
  );
  assert.ok(mail && mail.kind === "email");
  const link = mail.text.match(/\/login\/[A-Za-z0-9_-]{20,100}/)?.[0];
  assert.ok(link, mail.text);
  return { id: mail.id, path: link };
}

Deno.test("the outbox hides a sign-in link from everyone but its addressee", async () => {
  const app = await createTestApp();
  try {
    const admin = await app.signIn({
      admin: true,
      email: "ada@example.test",
    });
    const maya = `maya-${newId().slice(-6)}@example.test`;
    await putUser(app.kv, newId(), { email: maya });
    const mayas = await askForLink(app, maya);
    const token = mayas.path.split("/").at(-1)!;

    const page = await app.request(`/admin/outbox/${mayas.id}`, {
      headers: { cookie: admin.cookie },
    });
    assert.equal(page.status, 200);
    const pageHtml = await page.text();
    const frame = await app.request(`/admin/outbox/${mayas.id}/html`, {
      headers: { cookie: admin.cookie },
    });
    assert.equal(frame.status, 200);
    const frameHtml = await frame.text();
    for (const shown of [pageHtml, frameHtml]) {
      assert.ok(!shown.includes(token), "the token is not shown to the admin");
      assert.ok(shown.includes(`/login/${HIDDEN_TOKEN}`));
    }
    // The hidden link, followed, signs nobody in.
    const masked = await app.request(`/login/${HIDDEN_TOKEN}`);
    assert.equal(masked.status, 303);
    assert.equal(masked.headers.get("location"), "/login?failed=1");
    assert.equal(masked.headers.get("set-cookie"), null);
    // The real one still works for Maya: showing it hidden spent nothing.
    const real = await app.request(mayas.path);
    assert.equal(real.status, 303);
    assert.match(real.headers.get("set-cookie") ?? "", /kc_session=/);

    // The admin's own sign-in email shows the admin their own link.
    const own = await askForLink(app, "ada@example.test");
    const ownPage = await app.request(`/admin/outbox/${own.id}`, {
      headers: { cookie: admin.cookie },
    });
    assert.ok((await ownPage.text()).includes(own.path));
    const ownFrame = await app.request(`/admin/outbox/${own.id}/html`, {
      headers: { cookie: admin.cookie },
    });
    assert.ok((await ownFrame.text()).includes(own.path));
  } finally {
    await app.close();
  }
});
