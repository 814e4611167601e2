/**
 * Two OS processes sweeping one KV file at once (the cron of one deployment
 * and the button of another): every row is delivered once, none is lost, and
 * "database is locked" is retried rather than leaving rows half-moved.
 */
import assert from "node:assert/strict";
import { parseConfig } from "@/lib/config.ts";
import { openKv } from "@/lib/kv/db.ts";
import { addPushToken, putUser } from "@/lib/kv/users.ts";
import { putInstance } from "@/lib/kv/instances.ts";
import { scheduleAction } from "@/lib/scheduler/schedule.ts";
import { ScheduleInputSchema } from "@/lib/scheduler/schemas.ts";
import { listOutbox } from "@/lib/channels/outbox.ts";
import { keys } from "@/lib/kv/keys.ts";
import { newId } from "@/lib/ids.ts";
import type { Notification } from "@/lib/types.ts";

const INSTANCES = 334; // × 3 channels = 1,002 rows

Deno.test("two processes sweeping one KV file deliver each of 1,002 rows once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kiloclaw-two-process-" });
  const kvPath = `${dir}/kv.sqlite3`;
  const now = Date.parse("2026-11-25T12:00:00Z");
  try {
    const kv = await openKv(parseConfig({ KV_PATH: kvPath }));
    const ids: string[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const user = await putUser(kv, newId(), {
        email: `owner${i}@example.test`,
      }, now);
      await addPushToken(kv, user.id, `ExponentPushToken[device-${i}]`);
      const id = newId();
      await putInstance(kv, id, {
        name: `claw ${i}`,
        ownerId: user.id,
        imageTag: "v1",
      }, now);
      ids.push(id);
    }
    const input = ScheduleInputSchema.parse({
      actionType: "scheduled_restart",
      instanceIds: ids,
      scheduledAt: new Date(now + 30 * 60_000).toISOString(),
      noticeLeadHours: 1,
    });
    await scheduleAction(
      {
        kv,
        config: { scheduleMinAheadSeconds: 60 },
        now: () => now,
      },
      input,
      { id: "admin" },
    );
    kv.close();

    const worker =
      new URL("./_two_process_worker.ts", import.meta.url).pathname;
    const start = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-check", worker, kvPath, String(now)],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    const children = [start(), start()];
    // Both wait for this file, so their sweeps overlap instead of following process start-up.
    await Deno.writeTextFile(`${kvPath}.go`, "");
    const outputs = await Promise.all(children.map((c) => c.output()));
    const totals = outputs.map((o) => {
      const stderr = new TextDecoder().decode(o.stderr);
      assert.equal(o.code, 0, stderr);
      return JSON.parse(
        new TextDecoder().decode(o.stdout).trim().split("\n").at(-1)!,
      );
    });
    assert.equal(
      totals[0].sent + totals[1].sent,
      INSTANCES * 3,
      JSON.stringify(totals),
    );
    assert.equal(totals[0].failed + totals[1].failed, 0);

    const check = await openKv(parseConfig({ KV_PATH: kvPath }));
    const rows: Notification[] = [];
    for await (
      const e of check.list<Notification>({ prefix: keys.notifications() })
    ) rows.push(e.value);
    assert.equal(rows.length, INSTANCES * 3);
    assert.deepEqual([...new Set(rows.map((r) => r.status))], ["sent"]);
    assert.ok(rows.every((r) => r.attempts === 1), "no row was claimed twice");
    let due = 0;
    for await (const _ of check.list({ prefix: keys.notificationsDue() })) {
      due++;
    }
    assert.equal(due, 0, "nothing left in the due index");

    const items = [];
    for (
      let cursor: string | null = null, first = true;
      first || cursor;
      first = false
    ) {
      const page = await listOutbox(check, { limit: 500, cursor });
      items.push(...page.items);
      cursor = page.cursor;
    }
    const emails = items.filter((m) => m.kind === "email");
    const pushes = items.filter((m) => m.kind === "push");
    assert.equal(emails.length, INSTANCES, "one email per owner");
    assert.equal(new Set(emails.map((m) => m.to)).size, INSTANCES);
    assert.equal(
      pushes.length,
      INSTANCES,
      "one push per device: push has no idempotency key, so a repeat would show",
    );
    assert.equal(new Set(pushes.map((m) => m.to)).size, INSTANCES);
    check.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
