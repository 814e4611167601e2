/**
 * `POST/GET/DELETE /api/admin/webhooks`: the secret shown once, the 400s
 * naming the field, the addresses refused (literal and resolved), the audit
 * entries, the chat alert and a signature a careful receiver checks.
 */
import assert from "node:assert/strict";
import { HOUR, type Json, T0, typesOf, withWorld } from "./_setup.ts";
import { createTestApp } from "../helpers/app.ts";
import { requestFor } from "@/lib/webhooks/send.ts";
import { newSecret } from "@/lib/webhooks/endpoints.ts";
import type { WebhookPayload } from "@/lib/webhooks/schemas.ts";

async function production(
  fn: (
    call: (m: string, p: string, b?: unknown) => Promise<Json>,
  ) => Promise<void>,
) {
  const app = await createTestApp({ config: { allowHttpWebhooks: false } });
  try {
    await fn(async (m, p, b) => {
      const res = await app.api(m, p, b);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    });
  } finally {
    await app.close();
  }
}

Deno.test("register: 201 with the whsec_ secret once; lists and the log never show it; delete; every change audited", async () => {
  await withWorld(async (w) => {
    const res = await w.call("POST", "/api/admin/webhooks", {
      url: w.receiver.url("/hooks/a"),
      events: ["action.scheduled", "action.failed"],
    });
    assert.equal(res.status, 201);
    assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(res.body.kind, "standard");
    assert.deepEqual(res.body.events, ["action.scheduled", "action.failed"]);
    const id = res.body.id;

    const list = await w.call("GET", "/api/admin/webhooks");
    assert.equal(list.status, 200);
    assert.equal(list.body.endpoints.length, 1);
    assert.ok(!JSON.stringify(list.body).includes(res.body.secret));
    assert.ok(!("secret" in list.body.endpoints[0]));
    const one = await w.call("GET", `/api/admin/webhooks/${id}`);
    assert.ok(!JSON.stringify(one.body).includes(res.body.secret));
    const page = await w.app.request(`/admin/webhooks/${id}`, {
      headers: { cookie: (await w.app.signIn({ admin: true })).cookie },
    });
    assert.equal(page.status, 200);
    assert.ok(!(await page.text()).includes(res.body.secret));

    w.receiver.register("/hooks/a", res.body.secret);
    const test = await w.call("POST", `/api/admin/webhooks/${id}/test`);
    assert.equal(test.status, 201);
    assert.equal(test.body.delivery.status, "delivered");
    assert.equal(w.receiver.processed("/hooks/a")[0].type, "webhook.test");

    assert.equal(
      (await w.call("DELETE", `/api/admin/webhooks/${id}`)).status,
      204,
    );
    assert.equal(
      (await w.call("DELETE", `/api/admin/webhooks/${id}`)).status,
      404,
    );
    assert.equal(
      (await w.call("GET", `/api/admin/webhooks/${id}`)).status,
      404,
    );
    assert.deepEqual((await w.call("GET", "/api/admin/webhooks")).body, {
      endpoints: [],
    });

    const audit = await w.call(
      "GET",
      `/api/admin/audit?subjectType=webhook&subjectId=${id}`,
    );
    assert.deepEqual(
      audit.body.items.map((e: Json) => e.change),
      ["webhook.delete", "webhook.test", "webhook.create"],
    );
    assert.ok(!JSON.stringify(audit.body).includes(res.body.secret));
  });
});

Deno.test("register: a bad body is a 400 naming the field, and nothing is written", async () => {
  await production(async (call) => {
    const cases: [unknown, string, RegExp][] = [
      [{ events: ["action.failed"] }, "url", /expected the endpoint's URL/],
      [{ url: "not a url" }, "url", /absolute URL/],
      [{ url: "ftp://hooks.example.com/x" }, "url", /https, not ftp/],
      [{ url: "http://hooks.example.com/x" }, "url", /must use https/],
      [
        { url: "https://hooks.example.com/x", events: ["action.exploded"] },
        "events.0",
        /unknown event "action.exploded"; expected one of action.scheduled/,
      ],
      [
        { url: "https://hooks.example.com/x", events: [] },
        "events",
        /at least one/,
      ],
      [
        { url: "https://hooks.example.com/x", kind: "teams" },
        "kind",
        /"standard" or "slack"/,
      ],
      [
        {
          url: "https://hooks.example.com/x",
          kind: "slack",
          events: ["action.scheduled"],
        },
        "events",
        /a chat alert carries only action.failed, action.paused, target.failed/,
      ],
      [
        { url: "https://hooks.example.com/x", secret: "mine" },
        "secret",
        /not a field/,
      ],
      [
        { url: "https://user:pw@hooks.example.com/x" },
        "url",
        /user name or password/,
      ],
    ];
    for (const [body, path, message] of cases) {
      const res = await call("POST", "/api/admin/webhooks", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const issue = res.body.issues.find((i: Json) => i.path === path);
      assert.ok(issue, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(issue.message, message);
    }
    assert.deepEqual((await call("GET", "/api/admin/webhooks")).body, {
      endpoints: [],
    });
  });
});

Deno.test("register: private, loopback and link-local addresses are refused unless ALLOW_HTTP_WEBHOOKS", async () => {
  await production(async (call) => {
    for (
      const url of [
        "https://10.0.0.5/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.10/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "http://127.0.0.1:9/hook",
      ]
    ) {
      const res = await call("POST", "/api/admin/webhooks", { url });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.issues[0].path, "url");
      assert.match(
        res.body.issues[0].message,
        /private, loopback or link-local|must use https/,
        url,
      );
    }
    const ok = await call("POST", "/api/admin/webhooks", {
      url: "https://93.184.215.14/hook",
    });
    assert.equal(ok.status, 201);
  });
  await withWorld(async (w) => {
    // For local use: http to loopback, but never http to anything else.
    const local = await w.call("POST", "/api/admin/webhooks", {
      url: "http://127.0.0.1:9/hook",
    });
    assert.equal(local.status, 201);
    const remote = await w.call("POST", "/api/admin/webhooks", {
      url: "http://hooks.example.com/hook",
    });
    assert.equal(remote.status, 400);
    assert.match(remote.body.issues[0].message, /only to a loopback address/);
  });
});

Deno.test("delivery: a name that resolves to a private address is refused then (DNS rebinding), without a request", async () => {
  const app = await createTestApp({ config: { allowHttpWebhooks: false } });
  try {
    const created = await (await app.api("POST", "/api/admin/webhooks", {
      url: "https://rebind.example.com/hook",
    })).json();
    const reg = await (await app.api("POST", "/api/admin/webhooks", {
      url: "https://public.example.com/hook",
    })).json();
    let requests = 0;
    const deps = {
      ...app.ctx,
      fetch: (() => {
        requests++;
        return Promise.resolve(new Response("ok"));
      }) as typeof fetch,
      // The name was public when registered; now one of its addresses is inward.
      resolve: (host: string, type: "A" | "AAAA") =>
        Promise.resolve(
          host === "rebind.example.com"
            ? (type === "A" ? ["93.184.215.14", "10.1.2.3"] : [])
            : (type === "A" ? ["93.184.215.14"] : []),
        ),
    };
    const { deliverWebhooks } = await import("@/lib/webhooks/deliveries.ts");
    const { sendTestEvent } = await import("@/lib/webhooks/deliveries.ts");
    const { getEndpoint } = await import("@/lib/webhooks/endpoints.ts");
    const who = {
      actor: { id: "admin", email: null },
      via: "api_token" as const,
    };
    const refused = await sendTestEvent(
      deps,
      await getEndpoint(app.kv, created.id),
      who,
    );
    assert.equal(refused.status, "failed");
    assert.match(refused.lastAnswer!, /resolves to 10\.1\.2\.3/);
    assert.equal(requests, 0);
    const sent = await sendTestEvent(
      deps,
      await getEndpoint(app.kv, reg.id),
      who,
    );
    assert.equal(sent.status, "delivered");
    assert.equal(requests, 1);
    await deliverWebhooks(deps);
    assert.equal(requests, 1);
  } finally {
    await app.close();
  }
});

Deno.test("the receiver refuses a wrong secret and an old timestamp; the app's signature passes", async () => {
  await withWorld(async (w) => {
    const secret = newSecret();
    w.receiver.register("/hooks/strict", secret);
    const payload: WebhookPayload = {
      type: "webhook.test",
      timestamp: new Date().toISOString(),
      data: { action: null, counts: null },
    };
    const post = (req: { body: string; headers: Record<string, string> }) =>
      fetch(w.receiver.url("/hooks/strict"), {
        method: "POST",
        ...req,
      }).then(async (r) => (await r.body?.cancel(), r.status));
    assert.equal(
      await post(
        requestFor(
          { kind: "standard", secret: newSecret() },
          "msg_a",
          payload,
          new Date(),
        )!,
      ),
      401,
    );
    assert.equal(
      await post(
        requestFor(
          { kind: "standard", secret },
          "msg_b",
          payload,
          new Date(Date.now() - 10 * 60_000),
        )!,
      ),
      401,
    );
    assert.equal(
      await post(
        requestFor({ kind: "standard", secret }, "msg_c", payload, new Date())!,
      ),
      200,
    );
    assert.deepEqual(w.receiver.rejected("/hooks/strict"), [
      "No matching signature found",
      "Message timestamp too old",
    ]);
    assert.deepEqual(w.receiver.processed("/hooks/strict").map((p) => p.id), [
      "msg_c",
    ]);
  });
});

Deno.test("a chat alert (kind slack) gets a short sentence, not the signed JSON, for failed and paused rollouts only, the first failed instance only", async () => {
  await withWorld(async (w) => {
    const chat = "/hooks/chat";
    const res = await w.call("POST", "/api/admin/webhooks", {
      url: w.receiver.url(chat),
      kind: "slack",
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body.events, [
      "action.failed",
      "action.paused",
      "target.failed",
    ]);
    w.receiver.register(chat, null);
    // The same events, signed, to a standard endpoint: every failure.
    const full = "/hooks/full";
    await w.register(full, { events: ["target.failed", "action.failed"] });

    const a = await w.schedule(3, T0 + 2 * HOUR);
    const refused = { status: 400, body: { error: "disk full" } };
    w.controller.script(refused, refused, refused);
    w.clock.t = T0 + 2 * HOUR;
    await w.apply();
    await w.deliver();
    const texts = w.receiver.texts(chat);
    assert.equal(texts.length, 2, texts.join("\n"));
    assert.match(
      texts[0],
      new RegExp(
        `^:warning: The restart failed on instance bot-\\d \\(.*disk full.*\\); any further failures are on the action's page\\. <http://localhost:8000/admin/actions/${a}\\|Open the action>$`,
      ),
    );
    assert.equal(
      texts[1],
      `:red_circle: The restart failed: 3 of 3 instances failed, none changed. <http://localhost:8000/admin/actions/${a}|Open the action>`,
    );
    assert.deepEqual(typesOf(w, full, a), [
      "target.failed",
      "target.failed",
      "target.failed",
      "action.failed",
    ]);
  });
});

Deno.test("config: ALLOW_HTTP_WEBHOOKS is off by default, and a bad value says what is wrong", async () => {
  const { parseConfig, ConfigError } = await import("@/lib/config.ts");
  assert.equal(parseConfig({}).allowHttpWebhooks, false);
  assert.equal(
    parseConfig({ ALLOW_HTTP_WEBHOOKS: "true" }).allowHttpWebhooks,
    true,
  );
  assert.throws(
    () => parseConfig({ ALLOW_HTTP_WEBHOOKS: "sometimes" }),
    (err) =>
      err instanceof ConfigError && /ALLOW_HTTP_WEBHOOKS/.test(err.message),
  );
});
