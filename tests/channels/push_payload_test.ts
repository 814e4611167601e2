import assert from "node:assert/strict";
import {
  parseScheduledActionPush,
  ScheduledActionPushSchema,
  shouldShowForegroundAlert,
  tapRoute,
} from "@/lib/channels/push_payload.ts";

const data = {
  type: "scheduled-action",
  event: "scheduled_version_change_notice",
  instanceId: "claw-42",
};

Deno.test("push payload: parse finds our data wherever the app holds it, and ignores the rest", () => {
  const expected = { ...data };
  assert.deepEqual(parseScheduledActionPush(data), expected);
  assert.deepEqual(parseScheduledActionPush({ ...data, extra: 1 }), expected);
  assert.deepEqual(parseScheduledActionPush({ title: "t", data }), expected);
  const received = { request: { content: { title: "t", data } } };
  assert.deepEqual(parseScheduledActionPush(received), expected);
  assert.deepEqual(
    parseScheduledActionPush({
      notification: received,
      actionIdentifier: "default",
    }),
    expected,
  );
  for (
    const other of [
      null,
      undefined,
      "x",
      42,
      {},
      { type: "chat-message", instanceId: "claw-42" },
      { ...data, event: "scheduled_reboot" },
      { ...data, instanceId: "" },
    ]
  ) {
    assert.equal(parseScheduledActionPush(other), null, JSON.stringify(other));
  }
});

Deno.test("push payload: the foreground alert is hidden only while that instance's chat is open", () => {
  assert.equal(shouldShowForegroundAlert(data, "claw-42"), false);
  assert.equal(shouldShowForegroundAlert(data, "claw-7"), true);
  assert.equal(shouldShowForegroundAlert(data, null), true);
  assert.equal(
    shouldShowForegroundAlert({ type: "chat-message" }, "claw-42"),
    true,
  );
});

Deno.test("push payload: a tap, live or on cold start, opens the instance's chat", () => {
  assert.equal(tapRoute(data), "/chat/claw-42");
  const coldStart = {
    notification: {
      request: { content: { data: { ...data, instanceId: "a b/c" } } },
    },
  };
  assert.equal(tapRoute(coldStart), "/chat/a%20b%2Fc");
  assert.equal(tapRoute({ type: "chat-message" }), null);
});

Deno.test("push payload: the schema holds the body to 100 characters", () => {
  const message = {
    to: "ExponentPushToken[abcdefghijkl]",
    title: "t",
    body: "x".repeat(100),
    data,
    sound: "default",
    priority: "high",
  };
  assert.ok(ScheduledActionPushSchema.safeParse(message).success);
  assert.equal(
    ScheduledActionPushSchema.safeParse({ ...message, body: "x".repeat(101) })
      .success,
    false,
  );
});
