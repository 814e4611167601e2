/**
 * The one text policy (lib/text.ts): what every human-text field accepts and
 * how it is stored; and the places that print stored text on one line (push
 * titles, plain-text email) never carry a raw CR or LF, whatever is stored.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  checkText,
  oneLine,
  plainLines,
  textField,
  visibleLength,
} from "@/lib/text.ts";
import { validationError } from "@/lib/errors.ts";
import { pushTexts } from "@/lib/channels/push_texts.ts";
import { renderNoticeEmail } from "@/lib/channels/email_render.ts";
import { renderLoginEmail } from "@/lib/channels/email_templates/LoginEmail.tsx";
import { noticeItem } from "../helpers/channel_fixtures.ts";
import { getUser, UserPutSchema } from "@/lib/kv/users.ts";
import { putCatalogEntry } from "@/lib/kv/catalog.ts";
import { createTestApp } from "../helpers/app.ts";

const value = (raw: string, rules: Parameters<typeof checkText>[1]) => {
  const r = checkText(raw, rules);
  assert.ok(r.ok, r.ok ? "" : r.problem);
  return r.value;
};
const problem = (raw: string, rules: Parameters<typeof checkText>[1]) => {
  const r = checkText(raw, rules);
  assert.ok(!r.ok, `accepted ${JSON.stringify(raw)}`);
  return r.problem;
};

Deno.test("text policy: normalized to NFC, trimmed, tabs become spaces", () => {
  assert.equal(value("  Cafe\u0301  ", { max: 10 }), "Café");
  assert.equal(value("a\tb", { max: 10 }), "a b");
  assert.equal(value("x".repeat(10), { max: 10 }), "x".repeat(10));
});

Deno.test("text policy: line breaks only where a field allows them, stored as \\n", () => {
  assert.equal(
    value("one\r\ntwo\rthree\u2028four\nfive", { max: 50, multiline: true }),
    "one\ntwo\nthree\nfour\nfive",
  );
  for (const br of ["\n", "\r", "\r\n", "\u2028", "\u2029"]) {
    assert.match(problem(`a${br}b`, { max: 10 }), /single line/);
  }
});

Deno.test("text policy: no control characters, bidi overrides or lone surrogates", () => {
  for (
    const c of ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009b"]
  ) {
    assert.match(
      problem(`a${c}b`, { max: 10, multiline: true }),
      /must not contain control characters \(found U\+00/,
    );
  }
  for (
    const c of [
      "\u202a",
      "\u202b",
      "\u202c",
      "\u202d",
      "\u202e",
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",
      "\u200e",
      "\u200f",
      "\u061c",
    ]
  ) {
    assert.match(problem(`a${c}b`, { max: 10 }), /right-to-left overrides/);
    assert.equal(oneLine(`a${c}b`), "ab");
  }
  // Characters that show nothing would let "Maya's bot" and "Maya's\u200b bot"
  // pass for one name.
  for (
    const c of [
      "\u200b",
      "\u2060",
      "\ufeff",
      "\u3164",
      "\u00ad",
      "\u115f",
      "\u180e",
      "\uffa0",
    ]
  ) {
    const hex = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    assert.equal(
      problem(`a${c}b`, { max: 10, multiline: true }),
      `must not contain invisible characters such as zero-width spaces (found U+${hex})`,
    );
    assert.equal(plainLines(`a${c}b`), "ab");
  }
  // Joiners stay: emoji sequences and several scripts are written with them.
  assert.equal(value("👩‍💻 क्‍ष", { max: 10 }), "👩‍💻 क्‍ष");
  assert.equal(value("می‌خواهم", { max: 10 }), "می‌خواهم");
  assert.match(problem("a\ud800b", { max: 10 }), /broken character/);
  assert.match(problem("a\udc00", { max: 10 }), /broken character/);
  assert.equal(value("a😀b", { max: 10 }), "a😀b");
});

Deno.test("text policy: length counts the characters a person sees", () => {
  assert.equal(visibleLength("👩‍👩‍👧‍👦"), 1);
  assert.equal(visibleLength("e\u0301"), 1);
  assert.equal(visibleLength("🇸🇪"), 1);
  assert.equal(value("👩‍👩‍👧‍👦".repeat(5), { max: 5 }), "👩‍👩‍👧‍👦".repeat(5));
  assert.match(
    problem("👩‍👩‍👧‍👦".repeat(6), { max: 5 }),
    /must be at most 5 characters \(got 6\)/,
  );
  assert.match(problem("", { max: 5, min: 1 }), /must not be empty/);
  assert.match(problem("   ", { max: 5, min: 1 }), /must not be empty/);
  assert.match(problem("ab", { max: 5, min: 3 }), /at least 3 characters/);
  assert.match(
    problem("a" + "\u0301".repeat(40), { max: 5 }),
    /too many accents or marks/,
  );
  // Under the character count, a byte bound keeps any value small enough for KV.
  assert.equal(visibleLength(value("👩‍👩‍👧‍👦".repeat(20), { max: 20 })), 20);
  assert.match(
    problem("👩‍👩‍👧‍👦".repeat(100), { max: 100 }),
    /is too large: at most 1,024 bytes of text/,
  );
});

Deno.test("text policy in a schema: the field named, the normalized value kept", () => {
  const schema = z.object({ name: textField({ max: 5, min: 1 }) });
  assert.deepEqual(schema.parse({ name: " Zoe\u0308 " }), { name: "Zoë" });
  const r = schema.safeParse({ name: "a\u202eb" });
  assert.ok(!r.success);
  const err = validationError(r.error);
  assert.equal(err.issues![0].path, "name");
  assert.match(err.message, /^invalid request body: name: must not contain/);
  const wrong = schema.safeParse({ name: 5 });
  assert.ok(!wrong.success);
  assert.equal(
    validationError(wrong.error).issues![0].message,
    "must be a string",
  );
});

Deno.test("one-line and plain-text output of stored text", () => {
  assert.equal(oneLine("Bot\r\nBcc: x\u0000\u202e y\u2028z"), "Bot Bcc: x y z");
  assert.equal(oneLine("bad \ud800 half"), "bad \ufffd half");
  assert.equal(
    plainLines("one\r\ntwo\rthree\u0007\u202e\n\tfour"),
    "one\ntwo\nthree \n four",
  );
});

Deno.test("push titles and bodies carry no line break, whatever the instance is called", () => {
  for (const actionType of ["scheduled_restart", "version_change"] as const) {
    for (const kind of ["notice", "cancelled"] as const) {
      const item = noticeItem({
        actionType,
        kind,
        instance: { name: "Bot\r\nline two\u2028three\u202e" },
        openclawVersion: "1.2\n3",
      });
      const { title, body } = pushTexts(item);
      assert.doesNotMatch(title, /[\r\n\u2028\u2029\u202e]/, title);
      assert.doesNotMatch(body, /[\r\n\u2028\u2029]/, body);
      assert.match(title, /^Bot line two three/);
    }
  }
});

Deno.test("plain-text email: one-line values stay on their line; the message has only \\n breaks", () => {
  const item = noticeItem({
    actionType: "version_change",
    instance: { name: "Bot\r\nBcc: everyone@example.com" },
    user: { name: "Ada\rEvil" },
    action: {
      noticeSubject: "Planned\r\nBcc: x",
      noticeBody: "First line\r\nSecond line\rThird\u0000 line",
    },
    openclawVersion: "1.9\r\n0",
  });
  const email = renderNoticeEmail(item, "https://claw.example.com");
  assert.doesNotMatch(email.subject, /[\r\n]/);
  assert.doesNotMatch(email.text, /[\r\u2028\u2029]/);
  assert.ok(!email.text.includes("\u0000"));
  const lines = email.text.split("\n");
  assert.ok(lines.includes("Hi Ada,"), lines.join(" | "));
  assert.ok(lines.some((l) => l.includes("Bot Bcc: everyone@example.com")));
  assert.ok(
    !lines.some((l) => l.startsWith("Bcc:")),
    "no line starts a header",
  );
  assert.ok(lines.includes("First line"));
  assert.ok(lines.includes("Second line"));
  assert.ok(lines.includes("Third  line"));

  const login = renderLoginEmail({
    name: "Mal\r\nBcc: x",
    link: "https://claw.example.com/login/abc",
    minutes: 15,
  });
  assert.doesNotMatch(login.text, /\r/);
  assert.match(login.text, /^Hi Mal,\n/);
});

Deno.test("a user's blank name is stored as no name; leaving it out keeps the stored one", () => {
  const email = "ada@example.com";
  assert.equal(UserPutSchema.parse({ email, name: "   " }).name, null);
  assert.equal(UserPutSchema.parse({ email }).name, undefined);
  assert.equal(UserPutSchema.parse({ email, name: " Ada " }).name, "Ada");
});

Deno.test("API: a name or text with a bidi mark or an invisible character is a 400 naming the field, and nothing is stored", async () => {
  const app = await createTestApp();
  try {
    await putCatalogEntry(app.kv, "v1", { openclawVersion: "1.0.0" });
    const refused = async (
      path: string,
      body: Record<string, unknown>,
      field: string,
      found: string,
    ) => {
      const res = await app.api("PUT", path, body);
      const json = await res.json();
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(json)}`);
      assert.equal(json.issues[0].path, field);
      assert.match(json.issues[0].message, new RegExp(`found ${found}`));
      assert.ok(json.error.includes(field), json.error);
    };
    const id = `look-alike-${crypto.randomUUID().slice(0, 8)}`;
    const cases: [string, string][] = [
      ["\u200e", "U\\+200E"],
      ["\u200f", "U\\+200F"],
      ["\u061c", "U\\+061C"],
      ["\u200b", "U\\+200B"],
      ["\u2060", "U\\+2060"],
      ["\ufeff", "U\\+FEFF"],
      ["\u3164", "U\\+3164"],
      ["\u00ad", "U\\+00AD"],
    ];
    for (const [c, found] of cases) {
      await refused(
        `/api/admin/users/${id}`,
        {
          email: `${id}@example.test`,
          name: `Maya${c} Stone`,
        },
        "name",
        found,
      );
      await refused(
        `/api/admin/instances/${id}`,
        {
          name: `Maya's${c} bot`,
          ownerId: "someone",
          imageTag: "v1",
        },
        "name",
        found,
      );
      await refused(
        `/api/admin/catalog/v9`,
        {
          openclawVersion: `2.0${c}.0`,
        },
        "openclawVersion",
        found,
      );
    }
    assert.equal(
      (await app.api("GET", `/api/admin/instances/${id}`)).status,
      404,
    );
    assert.equal(await getUser(app.kv, id), null);

    const scheduled = await app.api("POST", "/api/admin/scheduled-actions", {
      actionType: "scheduled_restart",
      instanceIds: [id],
      scheduledAt: new Date(Date.now() + 3_600_000).toISOString(),
      noticeSubject: "Restart\u200b tonight",
    });
    const json = await scheduled.json();
    assert.equal(scheduled.status, 400, JSON.stringify(json));
    assert.ok(
      json.issues.some((i: { path: string; message: string }) =>
        i.path === "noticeSubject" && /invisible characters/.test(i.message)
      ),
      JSON.stringify(json),
    );
  } finally {
    await app.close();
  }
});
