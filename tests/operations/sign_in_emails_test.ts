/**
 * Sign-in emails go out from rows kept in KV, with no KV queue: sent by the
 * request's own process after it answers, by the minute sweep job when that
 * process did not, each row once (a lease and an idempotency key per row),
 * retried with backoff, given up or dropped when it expires.
 */
import assert from "node:assert/strict";
import { createTestApp, ORIGIN, type TestApp } from "../helpers/app.ts";
import { startResendFake } from "../fakes/resend_server.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { putUser } from "@/lib/kv/users.ts";
import { newId } from "@/lib/ids.ts";
import { keys } from "@/lib/kv/keys.ts";
import { sha256Hex } from "@/lib/auth/compare.ts";
import { consumeLoginLink, LOGIN_LINK_TTL_MS } from "@/lib/auth/login_links.ts";
import {
  deliverSignInEmail,
  MAX_SIGN_IN_ATTEMPTS,
  queueSignInEmail,
  type SignInEmail,
  sweepSignInEmails,
} from "@/lib/auth/sign_in_emails.ts";
import { runSweepJob } from "@/lib/jobs.ts";
import type {
  EmailMessage,
  EmailSender,
  SendResult,
} from "@/lib/channels/types.ts";

const form = (email: string) => ({
  method: "POST",
  headers: {
    "content-type": "application/x-www-form-urlencoded",
    origin: ORIGIN,
  },
  body: new URLSearchParams({ email }).toString(),
});

const LINK = /https?:\/\/\S+\/login\/([A-Za-z0-9_-]+)/;

/** A clock the test moves; starts at the real time (the rate limits use windows of it). */
function clock() {
  let t = Date.now();
  return { now: () => t, advance: (ms: number) => t += ms };
}

/** A sender that records each call and answers from `answers` (then ok). */
function scriptedSender(answers: SendResult[] = []) {
  const calls: { message: EmailMessage; key?: string }[] = [];
  const sender: EmailSender = {
    name: "scripted",
    send(message, opts) {
      calls.push({ message, key: opts?.idempotencyKey });
      return Promise.resolve(
        answers.shift() ?? { ok: true, id: `id-${calls.length}` },
      );
    },
    sendBatch() {
      return Promise.resolve({ ok: false, transient: false, error: "unused" });
    },
  };
  return { sender, calls };
}

async function rows(kv: Deno.Kv): Promise<SignInEmail[]> {
  const out: SignInEmail[] = [];
  for await (const e of kv.list<SignInEmail>({ prefix: ["sign_in_emails"] })) {
    out.push(e.value);
  }
  return out;
}

async function knownUser(app: TestApp): Promise<string> {
  const email = `signin-${newId().slice(-8)}@example.com`;
  await putUser(app.kv, newId(), { email });
  return email;
}

Deno.test("a row holds the address and the hash of the link it carried, never the token", async () => {
  const t = clock();
  const { sender, calls } = scriptedSender([
    { ok: false, transient: true, error: "Resend 503 unavailable" },
  ]);
  const app = await createTestApp({ context: { now: t.now, email: sender } });
  try {
    const email = await knownUser(app);
    await app.request("/login", form(email));
    await app.queueIdle();
    assert.equal(calls.length, 1, "the request's process tried at once");
    const token = calls[0].message.text.match(LINK)![1];
    const [row] = await rows(app.kv);
    assert.equal(row.email, email);
    assert.equal(row.status, "pending");
    assert.equal(row.attempts, 1);
    assert.equal(row.tokenHash, await sha256Hex(token));
    assert.ok(row.dueAt > t.now(), "the retry waits for its backoff");
    assert.ok(
      !JSON.stringify(row).includes(token),
      "the token itself is not stored",
    );
  } finally {
    await app.close();
  }
});

Deno.test("the minute sweep job sends a row its request's process never sent, once", async () => {
  const app = await createTestApp();
  try {
    const email = await knownUser(app);
    // As if the process that stored the row stopped before sending it.
    await queueSignInEmail(app.kv, {
      kind: "sign_in_link",
      email,
      next: "/",
    }, app.ctx.now());
    await runSweepJob(app.ctx);
    await runSweepJob(app.ctx);
    const mails = (await listOutbox(app.kv, { limit: 50 })).items.filter((m) =>
      m.to === email
    );
    assert.equal(mails.length, 1);
    assert.deepEqual(await rows(app.kv), [], "the row is gone once sent");
    const due = await Array.fromAsync(
      app.kv.list({ prefix: keys.signInEmailsDue() }),
    );
    assert.equal(due.length, 0);
  } finally {
    await app.close();
  }
});

Deno.test("the request's process and the backstop at the same moment send one email", async () => {
  const { sender, calls } = scriptedSender();
  const app = await createTestApp({ context: { email: sender } });
  try {
    const email = await knownUser(app);
    await app.request("/login", form(email));
    // The backstop runs before the request's own send has finished (or started).
    await Promise.all([sweepSignInEmails(app.ctx), app.queueIdle()]);
    await sweepSignInEmails(app.ctx);
    assert.equal(calls.length, 1);
    assert.match(calls[0].key!, /^kiloclaw-sign-in\//);
  } finally {
    await app.close();
  }
});

/** A KV whose commits fail once armed: a process that dies right after the provider accepted the email. */
function dyingKv(kv: Deno.Kv) {
  let dead = false;
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation =>
    new Proxy(op, {
      get(target, prop) {
        if (prop === "commit" && dead) {
          return () => Promise.reject(new Error("process killed"));
        }
        const v = Reflect.get(target, prop);
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          const r = v.apply(target, args);
          return r === target ? wrapOp(target) : r;
        };
      },
    });
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapOp(target.atomic());
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { kv: proxy, die: () => dead = true };
}

Deno.test("a sender that died after the provider accepted: after its lease the row goes again under its key, and the provider delivers once", async () => {
  const fake = await startResendFake();
  const t = clock();
  const app = await createTestApp({
    config: { resendApiKey: fake.apiKey, resendBaseUrl: fake.url },
    context: { now: t.now },
  });
  try {
    const email = await knownUser(app);
    const id = await queueSignInEmail(app.kv, {
      kind: "sign_in_link",
      email,
      next: "/",
    }, t.now());
    const dying = dyingKv(app.kv);
    const firstSender: EmailSender = {
      name: app.ctx.email.name,
      async send(m, o) {
        const res = await app.ctx.email.send(m, o);
        dying.die();
        return res;
      },
      sendBatch: (m, o) => app.ctx.email.sendBatch(m, o),
    };
    await assert.rejects(
      deliverSignInEmail({ ...app.ctx, kv: dying.kv, email: firstSender }, id),
      /process killed/,
    );
    assert.equal(fake.delivered.length, 1);
    const [held] = await rows(app.kv);
    assert.equal(
      held.status,
      "sending",
      "left held, as a dead process leaves it",
    );

    assert.equal(
      (await sweepSignInEmails(app.ctx)).sent,
      0,
      "nobody takes it while the lease lasts",
    );
    t.advance(app.ctx.config.noticeLeaseSeconds * 1000 + 1);
    assert.equal((await sweepSignInEmails(app.ctx)).sent, 1);
    assert.equal(fake.delivered.length, 1, "the provider delivered it once");
    const keysUsed = fake.requests.map((r) => r.idempotencyKey);
    assert.deepEqual(keysUsed, [keysUsed[0], keysUsed[0]]);
    assert.deepEqual(await rows(app.kv), []);

    // The link that went out works; the one the second attempt carried was withdrawn.
    const [first, second] = fake.requests.map((
      r,
    ) => ((r.body as { text: string }).text.match(LINK)![1]));
    assert.notEqual(first, second);
    assert.equal(await consumeLoginLink(app.kv, second, t.now()), null);
    assert.ok(await consumeLoginLink(app.kv, first, t.now()));
  } finally {
    await app.close();
    await fake.close();
  }
});

Deno.test("transient failures are retried with backoff, then given up; permanent ones at once", async (s) => {
  await s.step("transient", async () => {
    const t = clock();
    const failing = Array.from({ length: 10 }, (): SendResult => ({
      ok: false,
      transient: true,
      error: "Resend 500 boom",
    }));
    const { sender, calls } = scriptedSender(failing);
    const app = await createTestApp({ context: { now: t.now, email: sender } });
    try {
      const email = await knownUser(app);
      await queueSignInEmail(app.kv, {
        kind: "sign_in_link",
        email,
        next: "/",
      }, t.now());
      const outcomes = [];
      for (let i = 0; i < MAX_SIGN_IN_ATTEMPTS + 2; i++) {
        outcomes.push(await sweepSignInEmails(app.ctx));
        // Not yet due: a sweep right away does nothing.
        assert.equal(calls.length, Math.min(i + 1, MAX_SIGN_IN_ATTEMPTS));
        assert.equal((await sweepSignInEmails(app.ctx)).retried, 0);
        t.advance(60_000);
      }
      assert.equal(calls.length, MAX_SIGN_IN_ATTEMPTS);
      assert.equal(outcomes.reduce((n, o) => n + o.retried, 0), 4);
      assert.equal(outcomes.reduce((n, o) => n + o.failed, 0), 1);
      assert.deepEqual(await rows(app.kv), []);
    } finally {
      await app.close();
    }
  });
  await s.step("permanent", async () => {
    const { sender, calls } = scriptedSender([{
      ok: false,
      transient: false,
      error: "Resend 422 validation_error",
    }]);
    const app = await createTestApp({ context: { email: sender } });
    try {
      await app.request("/login", form(await knownUser(app)));
      await app.queueIdle();
      assert.equal(calls.length, 1);
      assert.deepEqual(await rows(app.kv), []);
    } finally {
      await app.close();
    }
  });
});

Deno.test("a row left unsent past its link's lifetime is dropped, and an unknown address gets nothing", async () => {
  const t = clock();
  const { sender, calls } = scriptedSender();
  const app = await createTestApp({ context: { now: t.now, email: sender } });
  try {
    await queueSignInEmail(app.kv, {
      kind: "sign_in_link",
      email: await knownUser(app),
      next: "/",
    }, t.now());
    t.advance(LOGIN_LINK_TTL_MS);
    assert.equal((await sweepSignInEmails(app.ctx)).expired, 1);

    await app.request("/login", form("nobody-here@example.com"));
    await app.queueIdle();
    assert.equal(calls.length, 0);
    assert.deepEqual(await rows(app.kv), []);
  } finally {
    await app.close();
  }
});

Deno.test("nothing uses KV queues: sign-in works on a KV without them", async () => {
  const real = await Deno.openKv(":memory:");
  const noQueues = new Proxy(real, {
    get(target, prop) {
      if (prop === "enqueue" || prop === "listenQueue") {
        return () => {
          throw new Error("KV queues are not available here");
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const app = await createTestApp({ context: { kv: noQueues } });
  try {
    const email = await knownUser({ ...app, kv: noQueues });
    const res = await app.request("/login", form(email));
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await app.queueIdle();
    await runSweepJob(app.ctx);
    const mails = (await listOutbox(app.kv, { limit: 10 })).items;
    assert.deepEqual(mails.map((m) => m.to), [email], "sent once");
    assert.deepEqual(await rows(noQueues), []);
  } finally {
    await app.close();
    real.close();
  }
  // And no source file calls them.
  const offenders: string[] = [];
  for (const dir of ["lib", "routes", "islands", "components"]) {
    for await (const path of walk(dir)) {
      const text = await Deno.readTextFile(path);
      // A stream controller's enqueue is not a KV queue.
      if (/(?<!controller)\.(enqueue|listenQueue)\(/.test(text)) {
        offenders.push(path);
      }
    }
  }
  if (/\.(enqueue|listenQueue)\(/.test(await Deno.readTextFile("main.ts"))) {
    offenders.push("main.ts");
  }
  assert.deepEqual(offenders, []);
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(path);
    else if (/\.tsx?$/.test(e.name)) yield path;
  }
}
