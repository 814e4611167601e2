/**
 * "Send a test to me": the notice the review shows, delivered to the admin
 * instead of the owner — the email through the configured sender, the push
 * to the admin's own devices. Marked as a test; touches no notification row.
 */
import type { AppContext } from "../app_context.ts";
import { createPushTransport } from "../channels/mod.ts";
import { pushEvent } from "../channels/push_texts.ts";
import type { User } from "../types.ts";
import type { SchedulePreview } from "./preview_model.ts";

export async function sendTestToAdmin(
  ctx: Pick<AppContext, "config" | "kv" | "email" | "now">,
  admin: Pick<User, "email" | "pushTokens">,
  preview: SchedulePreview,
): Promise<string> {
  const s = preview.sample;
  if (!s || !preview.notice) return "Nothing to send: owners are not notified.";
  const said: string[] = [];
  if (s.email) {
    const res = await ctx.email.send({
      to: admin.email,
      subject: `[Test] ${s.email.subject}`,
      html: s.email.html,
      text: s.email.text,
      tags: { test: "schedule-review" },
    });
    said.push(
      res.ok
        ? `the email to ${admin.email}${
          ctx.email.name === "outbox" ? " (see the Outbox)" : ""
        }`
        : `no email (${res.error})`,
    );
  }
  if (s.push) {
    const tokens = [...new Set(admin.pushTokens)];
    if (tokens.length === 0) {
      said.push("no push: you have no device registered");
    } else {
      try {
        const tickets = await createPushTransport(ctx.config, ctx.kv, ctx.now)
          .send(tokens.map((to) => ({
            to,
            title: `[Test] ${s.push!.title}`.slice(0, 100),
            body: s.push!.body,
            data: {
              type: "scheduled-action" as const,
              event: pushEvent(preview.actionType, "notice"),
              instanceId: s.instance.id,
            },
            sound: "default" as const,
            priority: "high" as const,
          })));
        const ok = tickets.filter((t) => t.status === "ok").length;
        said.push(`the push to ${ok} of ${tokens.length} of your devices`);
      } catch (err) {
        said.push(`no push (${(err as Error).message})`);
      }
    }
  }
  return `Test sent: ${said.join("; ")}.`;
}
