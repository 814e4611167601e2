/**
 * An audit entry in sentences an admin reads ("Notice 24 h ahead by email
 * and banner", "Name changed from Bot A to Bot B"), not the stored fields.
 * Times stay times, so the page writes them in the viewer's zone.
 */
import type { AuditChange, AuditEntry, Channel } from "../types.ts";
import { channelList } from "../channel_names.ts";

/** A part of a sentence: words, or a moment to write in the viewer's zone. */
export type Part = string | { at: string };
export type Sentence = Part[];

/** How a change came, as the audit table names it. */
export const VIA_WORDS: Record<AuditEntry["via"], string> = {
  session: "admin session",
  api_token: "API token",
  system: "the scheduler itself",
  owner: "the owner",
};

/** Every kind of change, as the filter and the table name it. */
export const CHANGE_WORDS: Record<AuditChange, string> = {
  "action.schedule": "Scheduled an action",
  "action.cancel": "Cancelled an action",
  "target.cancel": "Cancelled one instance",
  "action.reschedule": "Moved an action",
  "action.pause": "Paused a rollout (health gate)",
  "action.resume": "Resumed a rollout",
  "action.abort": "Aborted a rollout",
  "action.rollback": "Rolled back a rollout",
  "target.postpone": "Postponed their instance's change",
  "action.recount": "Recounted an action",
  "catalog.put": "Saved a catalog entry",
  "user.put": "Saved a user",
  "user.delete": "Deleted a user",
  "user.settings": "Saved a user's settings",
  "instance.put": "Saved an instance",
  "webhook.create": "Added a webhook",
  "webhook.delete": "Removed a webhook",
  "webhook.test": "Sent a test event to a webhook",
};

const FIELD_NAMES: Record<string, string> = {
  openclawVersion: "OpenClaw version",
  available: "Available",
  email: "Email",
  name: "Name",
  timeZone: "Time zone",
  role: "Role",
  maintenanceWindow: "Maintenance window",
  channels: "Warnings by",
  quietHours: "Push quiet hours",
  ownerId: "Owner",
  imageTag: "Image tag",
  pinnedImageTag: "Pinned to",
  status: "Status",
  scheduledAt: "Time",
  noticeLeadHours: "Notice",
};

const isTime = (v: unknown): v is string =>
  typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v);

function word(field: string, v: unknown): Part {
  if (v === null || v === undefined || v === "") return "none";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (field === "noticeLeadHours") return `${v} h ahead`;
  if (isTime(v)) return { at: v };
  if (Array.isArray(v)) return v.join(", ");
  return String(v);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** "Name changed from A to B", "Name set to B" (a new record), one per field. */
function fieldChanges(details: Record<string, unknown>): Sentence[] {
  return Object.entries(details).map(([field, v]) => {
    const name = FIELD_NAMES[field] ?? field;
    if (Array.isArray(v) && v.length === 2) {
      const [was, is] = v;
      return was === null || was === undefined
        ? [`${name} set to `, word(field, is)]
        : [`${name} changed from `, word(field, was), " to ", word(field, is)];
    }
    return [`${name}: `, word(field, v)];
  });
}

function scheduleSentences(d: Record<string, unknown>): Sentence[] {
  const what = d.actionType === "version_change"
    ? `A version change to ${d.imageTag}`
    : "A restart";
  const out: Sentence[] = [[
    `${what} of ${plural(Number(d.targets ?? 0), "instance")}`,
    ...(isTime(d.scheduledAt) ? [" at ", { at: d.scheduledAt }] : []),
  ]];
  if (d.notify === false) {
    out.push(["Owners not notified"]);
    return out;
  }
  const channels = (d.noticeChannels ?? []) as Channel[];
  out.push([
    `Notice ${d.noticeLeadHours} h ahead${
      channels.length ? ` by ${channelList(channels)}` : ""
    }`,
  ]);
  const reminders = (d.reminderLeadHours ?? []) as number[];
  if (reminders.length) {
    out.push([`Reminders ${reminders.join(" h and ")} h ahead`]);
  }
  const done = (d.doneChannels ?? []) as Channel[];
  if (done.length) {
    out.push([`Owners told how it went by ${channelList(done)}`]);
  }
  return out;
}

/** What an entry changed, as sentences. */
export function describeChange(e: AuditEntry): Sentence[] {
  const d = e.details ?? {};
  switch (e.change) {
    case "action.schedule":
      return scheduleSentences(d);
    case "action.cancel": {
      const status = d.status as [string | null, string] | undefined;
      return status?.[0] && status[0] !== status[1]
        ? [[`It was ${status[0]}; now ${status[1]}`]]
        : [["Already cancelled: nothing more changed"]];
    }
    case "target.cancel":
      return [["That instance is left out; the rest go ahead"]];
    case "action.recount": {
      const n = Number(d.corrected ?? 0);
      return [[
        n
          ? `${plural(n, "counter")} corrected from the rows`
          : "Every counter matched the rows",
      ]];
    }
    case "action.reschedule": {
      const out: Sentence[] = [];
      const at = d.scheduledAt as [string, string] | undefined;
      if (at) out.push(["Moved from ", { at: at[0] }, " to ", { at: at[1] }]);
      const lead = d.noticeLeadHours as [number, number] | undefined;
      if (lead && lead[0] !== lead[1]) {
        out.push([`Notice changed from ${lead[0]} h to ${lead[1]} h ahead`]);
      }
      if (typeof d.moved === "number") {
        const left = Number(d.notMoved ?? 0);
        out.push([
          `${plural(d.moved, "instance")} moved${
            left
              ? `, ${plural(left, "instance")} already done or cancelled`
              : ""
          }`,
        ]);
      }
      return out;
    }
    case "target.postpone": {
      // The instance is named beside the sentences; its target id means nothing to a reader.
      const at = d.scheduledAt as [string, string] | undefined;
      const times = Number(d.postpones ?? 0);
      const out: Sentence[] = [];
      if (at) {
        out.push(["Postponed from ", { at: at[0] }, " to ", { at: at[1] }]);
      }
      if (times > 0) {
        out.push([
          times === 1
            ? "Its first postpone"
            : `Postponed ${times} times so far`,
        ]);
      }
      return out.length ? out : [["Postponed"]];
    }
    case "action.pause":
      return [[
        typeof d.sentence === "string"
          ? d.sentence
          : `Paused: wave ${d.wave ?? "?"} did not pass its gate`,
      ]];
    case "action.resume": {
      const at = d.scheduledAt as [string, string] | undefined;
      const waves = (d.waves ?? []) as number[];
      const out: Sentence[] = [];
      if (at) {
        out.push(["Next wave moved from ", { at: at[0] }, " to ", {
          at: at[1],
        }]);
      }
      if (waves.length) {
        out.push([
          `${waves.length === 1 ? "Wave" : "Waves"} ${waves.join(", ")} to go`,
        ]);
      }
      return out.length ? out : [["Resumed"]];
    }
    case "action.abort": {
      const after = Number(d.afterWave ?? 0);
      return [[
        after > 0
          ? `Aborted after wave ${after}: the later waves' instances are left as they were`
          : "Aborted before its first wave: no instance was changed",
      ]];
    }
    case "action.rollback": {
      const tags = (d.toTags ?? []) as string[];
      return [[
        `A version change back to ${
          tags.join(", ") || "the earlier tags"
        } for ${plural(Number(d.instances ?? 0), "instance")}`,
      ]];
    }
    case "user.delete":
      return [[`Deleted ${d.email ?? "the user"}`]];
    case "webhook.create":
      return [[
        `${d.kind === "slack" ? "A chat alert" : "An endpoint"} at ${d.url}`,
      ], [`For ${((d.events ?? []) as string[]).join(", ")}`]];
    case "webhook.delete":
      return [[`Removed ${d.url ?? "the endpoint"}`]];
    case "webhook.test":
      return [[`A test event to ${d.url ?? "the endpoint"}`]];
    default: {
      const changes = fieldChanges(d);
      return changes.length ? changes : [["Saved with no change"]];
    }
  }
}

/** The words of a sentence with its times as given (for tests and plain text). */
export function sentenceText(s: Sentence): string {
  return s.map((p) => typeof p === "string" ? p : p.at).join("");
}
