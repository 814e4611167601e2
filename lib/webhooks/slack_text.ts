/**
 * The chat alert (an endpoint of kind `slack`): a short sentence in Slack's
 * incoming-webhook JSON instead of the signed event, for rollouts that went
 * wrong. Slack's link syntax `<url|words>` also reads well in other chats
 * that take the same JSON (Mattermost, Rocket.Chat).
 */
import type { WebhookPayload } from "./schemas.ts";
import { TEST_EVENT_TYPE } from "./schemas.ts";

function what(a: NonNullable<WebhookPayload["data"]["action"]>): string {
  return a.actionType === "version_change"
    ? `The version change to ${a.imageTag}`
    : "The restart";
}

/** The sentence for an event, or null when chat alerts do not carry it. */
export function slackText(p: WebhookPayload): string | null {
  if (p.type === TEST_EVENT_TYPE) {
    return "KiloClaw test alert: this channel will hear about failed rollouts.";
  }
  const a = p.data.action;
  if (!a) return null;
  const link = `<${a.url}|Open the action>`;
  const c = p.data.counts;
  if (p.type === "action.failed") {
    const counts = c
      ? `: ${c.failed} of ${c.total} instances failed, none changed`
      : "";
    return `:red_circle: ${what(a)} failed${counts}. ${link}`;
  }
  if (p.type === "action.paused") {
    const counts = c ? `: ${c.failed} of ${c.total} failed` : "";
    return `:double_vertical_bar: ${what(a)} paused after wave ${
      p.data.wave ?? "?"
    }${counts}; its health gate stopped the rollout. ${link}`;
  }
  if (p.type === "target.failed") {
    const t = p.data.target;
    const error = t?.error ? ` (${t.error.slice(0, 200)})` : "";
    return `:warning: ${what(a)} failed on instance ${
      t?.instanceId ?? "?"
    }${error}; any further failures are on the action's page. ${link}`;
  }
  return null;
}
