/**
 * An instance's notice lines on the action page name what each message
 * told: a reminder its lead, and the message that the rollout paused reads
 * as that message, not as a notice held back.
 */
import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { TargetRow } from "@/components/action/TargetRow.tsx";
import type { NoticeView, TargetView } from "@/lib/views/action_view_model.ts";

const NOW = Date.parse("2030-03-04T12:00:00Z");

function notice(over: Partial<NoticeView>): NoticeView {
  return {
    id: crypto.randomUUID(),
    kind: "notice",
    reminderLeadHours: null,
    channel: "email",
    status: "sent",
    noDevice: false,
    turnedOff: false,
    quietHours: false,
    recipient: "maya@example.com",
    attempts: 1,
    error: null,
    held: false,
    dueAt: null,
    retry: false,
    sentAt: "2030-03-04T11:00:00.000Z",
    outboxId: null,
    earlier: [],
    ...over,
  };
}

Deno.test("notice lines: a reminder names its lead; the paused rollout's message is named as a message", () => {
  const target: TargetView = {
    id: "t1",
    instanceId: "i1",
    instanceName: "Maya's bot",
    owner: "Maya <maya@example.com>",
    from: "v1",
    to: "v2",
    status: "pending",
    skipReason: null,
    error: null,
    finishedAt: null,
    cancellation: null,
    notices: [
      notice({}),
      notice({ kind: "reminder", reminderLeadHours: 2 }),
      notice({ kind: "on_hold" }),
      notice({ kind: "on_hold", channel: "webapp", recipient: "banner" }),
    ],
  };
  const html = renderToString(
    <table>
      <tbody>
        <TargetRow
          target={target}
          open
          tz="UTC"
          now={NOW}
          actionId="a1"
          pageUrl="/admin/actions/a1"
          csrfToken={null}
          onDone={() => {}}
        />
      </tbody>
    </table>,
  );
  const lines = [
    ...html.matchAll(/class="notice-what">([^<]*(?:<!-- -->[^<]*)*)</g),
  ]
    .map((m) => m[1].replaceAll("<!-- -->", ""));
  assert.deepEqual(lines, [
    "Email",
    "Email (reminder, 2 h ahead)",
    "Email (on-hold message)",
    "Banner (on-hold message)",
  ]);
});
