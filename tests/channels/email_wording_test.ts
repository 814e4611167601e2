/**
 * The words of the notice emails: subjects in sentence case, one verb for a
 * version change ("change", never "move", which is the reschedule's word), and
 * the sentence agreeing with the number of bots an email is about.
 */
import assert from "node:assert/strict";
import type { ScheduledActionEmailProps } from "@/lib/channels/email_templates/props.ts";
import {
  VERSION_CHANGE_CANCELLED_SUBJECT,
  versionChangeCancelledText,
} from "@/lib/channels/email_templates/version_change_cancelled.tsx";
import {
  VERSION_CHANGE_NOTICE_SUBJECT,
  versionChangeNoticeText,
} from "@/lib/channels/email_templates/version_change_notice.tsx";
import {
  RESTART_NOTICE_SUBJECT,
  restartNoticeText,
} from "@/lib/channels/email_templates/restart_notice.tsx";
import { RESTART_CANCELLED_SUBJECT } from "@/lib/channels/email_templates/restart_cancelled.tsx";
import {
  RESTART_RESCHEDULED_SUBJECT,
  VERSION_CHANGE_RESCHEDULED_SUBJECT,
  versionChangeRescheduledText,
} from "@/lib/channels/email_templates/rescheduled.tsx";
import {
  DONE_SUBJECTS,
  doneSubject,
} from "@/lib/channels/email_templates/done.tsx";

const props = (botCount: number): ScheduledActionEmailProps => ({
  greetingName: "Maya",
  instanceName: botCount > 1 ? "Bot A and Bot B" : "Bot A",
  when: "Thu, Dec 10, 2026, 03:00 CET",
  whenUtc: "02:00 UTC",
  workspaceUrl: "https://claw.example.com/claw/a",
  adminMessage: null,
  targetImageTag: "2026.11.2",
  openclawVersion: "1.9.0",
  fromVersion: "OpenClaw 1.8.2",
  botCount,
  movedFrom: "Tue, Dec 8, 2026, 03:00 CET",
  movedFromUtc: "02:00 UTC",
});

Deno.test("email wording: default subjects are in sentence case", () => {
  const subjects = [
    RESTART_NOTICE_SUBJECT,
    RESTART_CANCELLED_SUBJECT,
    RESTART_RESCHEDULED_SUBJECT,
    VERSION_CHANGE_NOTICE_SUBJECT,
    VERSION_CHANGE_CANCELLED_SUBJECT,
    VERSION_CHANGE_RESCHEDULED_SUBJECT,
    ...Object.values(DONE_SUBJECTS),
    doneSubject(
      {
        status: "failed",
        actionType: "version_change",
      } as Parameters<typeof doneSubject>[0],
    ),
  ];
  for (const s of subjects) {
    assert.match(s, /^KiloClaw: [A-Z][a-z]+( [a-z]+)*$/, s);
  }
});

Deno.test("email wording: several bots are 'they', one bot is 'it'", () => {
  assert.match(
    versionChangeCancelledText(props(2)),
    /The version change of your 2 KiloClaw bots Bot A and Bot B from OpenClaw 1\.8\.2 to OpenClaw 1\.9\.0 planned for .* has been cancelled\. They stay on OpenClaw 1\.8\.2\./,
  );
  assert.match(
    versionChangeCancelledText(props(1)),
    /has been cancelled\. It stays on OpenClaw 1\.8\.2\./,
  );
  assert.match(
    versionChangeNoticeText(props(2)),
    /Your 2 KiloClaw bots Bot A and Bot B will change from OpenClaw 1\.8\.2 to OpenClaw 1\.9\.0 on .*\. They restart as part of the change/,
  );
  assert.match(versionChangeNoticeText(props(1)), /\. It restarts as part/);
  assert.match(restartNoticeText(props(2)), /while they come back up\./);
  assert.match(restartNoticeText(props(1)), /while it comes back up\./);
});

Deno.test("email wording: a version change is never called a move", () => {
  for (const text of [versionChangeNoticeText, versionChangeCancelledText]) {
    assert.doesNotMatch(text(props(2)), /\bmove/i);
  }
  // Only the reschedule moves: the time moved, the change is a version change.
  assert.match(
    versionChangeRescheduledText(props(1)),
    /The version change to OpenClaw 1\.9\.0 of your KiloClaw bot Bot A has moved from/,
  );
});
