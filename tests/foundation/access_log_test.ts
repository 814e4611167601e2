/**
 * The access log keeps a line short whatever path a caller sends: a 10 KB
 * path is cut to a few hundred characters, with a marker saying how much
 * was cut.
 */
import assert from "node:assert/strict";
import { createTestApp } from "../helpers/app.ts";
import { MAX_MESSAGE_CHARS, setQuietLogs } from "@/lib/operations/log.ts";

Deno.test("an anonymous caller's 10 KB path is logged cut short, with a marker", async () => {
  const app = await createTestApp();
  const lines: string[] = [];
  const print = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  setQuietLogs(false);
  try {
    const path = "/claw/" + "a".repeat(10_000);
    const res = await app.request(path);
    await res.body?.cancel();
    const short = await app.request("/login");
    await short.body?.cancel();
    const long = lines.find((l) => l.includes("GET /claw/aaa"));
    assert.ok(long, lines.join("\n"));
    assert.ok(long.length < MAX_MESSAGE_CHARS + 200, `${long.length} chars`);
    assert.match(long, /a…\[cut 9,710 more characters\] status=\d{3}/);
    // A path of ordinary length is logged whole.
    assert.ok(lines.some((l) => / INFO .*GET \/login status=200/.test(l)));
  } finally {
    setQuietLogs(true);
    console.log = print;
    await app.close();
  }
});
