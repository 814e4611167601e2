/**
 * The schedule form's values as the admin sees them (strings, ticks, a wall
 * clock time and its zone), the ids of its fields and the errors pinned to
 * them. Shared by the server (which reads and checks the posted form) and
 * the islands (which draw it), so no imports that reach KV.
 */
import type { ActionType, Channel } from "../types.ts";

/** The channels a done notice can take (the banner has none). */
export type DoneChannel = "email" | "mobile_push";
export const DONE_CHANNELS: DoneChannel[] = ["email", "mobile_push"];
import { CHANNELS } from "../types.ts";
import {
  formatDateTime,
  formatRelative,
  fromZonedInput,
  UTC,
  zoneAbbreviation,
} from "../format.ts";

/** "All N matching": the instances list's filters, carried to the form. */
export interface MatchFilter {
  q: string;
  tag: string;
  owner: string;
  status: string;
}

/** One wave as the form holds it: a share, a number or (wave 1) hand-picked ids, then a soak. */
export interface WaveRow {
  kind: "percent" | "count" | "canary";
  /** The percent or the count, as typed. */
  amount: string;
  /** A hand-picked canary's ids, one per line or comma separated. */
  instanceIds: string;
  /** Whole minutes, as typed. */
  soakMinutes: string;
}

/** Ready-made rollouts the form offers; the rows stay editable after. */
export const WAVE_PRESETS: { id: string; label: string; rows: WaveRow[] }[] = [
  {
    id: "canary",
    label: "Canary 1 %, then 25 %, then the rest",
    rows: [
      { kind: "percent", amount: "1", instanceIds: "", soakMinutes: "60" },
      { kind: "percent", amount: "25", instanceIds: "", soakMinutes: "60" },
      { kind: "percent", amount: "100", instanceIds: "", soakMinutes: "0" },
    ],
  },
  {
    id: "halves",
    label: "Half, then the rest",
    rows: [
      { kind: "percent", amount: "50", instanceIds: "", soakMinutes: "30" },
      { kind: "percent", amount: "100", instanceIds: "", soakMinutes: "0" },
    ],
  },
  {
    id: "tenths",
    label: "10 %, 30 %, then the rest, an hour apart",
    rows: [
      { kind: "percent", amount: "10", instanceIds: "", soakMinutes: "60" },
      { kind: "percent", amount: "30", instanceIds: "", soakMinutes: "60" },
      { kind: "percent", amount: "100", instanceIds: "", soakMinutes: "0" },
    ],
  },
];

/** A wave added below the others: the rest, with no soak. */
export const NEW_WAVE: WaveRow = {
  kind: "percent",
  amount: "100",
  instanceIds: "",
  soakMinutes: "0",
};

/** The gate's limits a fresh form offers (percent). */
export const DEFAULT_GATE = { maxFailedPercent: "5", maxUnhealthyPercent: "5" };

/** Element ids of a wave's fields. */
export const waveField = (
  i: number,
  part: "kind" | "amount" | "ids" | "soak",
) => `f-wave-${i}-${part}`;

export interface ScheduleFormValues {
  actionType: ActionType;
  /** The tag a version change moves to. */
  imageTag: string;
  overridePins: boolean;
  /** Chosen instances, every running one on a tag, or all matching a search. */
  targets: "ids" | "tag" | "match";
  instanceIds: string[];
  /** Pasted ids, one per line or comma separated, added to the chosen ones. */
  instanceIdsText: string;
  selectorTag: string;
  match: MatchFilter;
  /**
   * "now": as soon as allowed (the minimum lead of SCHEDULE_MIN_AHEAD_SECONDS);
   * "windows": each instance in its owner's maintenance window between
   * `scheduledAt` and `windowDeadline`.
   */
  when: "at" | "now" | "windows";
  /** The latest time of "windows", like `scheduledAt`. */
  windowDeadline: string;
  /** "yes": owners may postpone until `postponeUntil`, at most `postponeTimes` times; "no": urgent. */
  postpone: "no" | "yes";
  postponeUntil: string;
  postponeTimes: string;
  /** `<input type="datetime-local">`'s value, in `timeZone`. */
  scheduledAt: string;
  timeZone: string;
  reason: string;
  notify: boolean;
  noticeLeadHours: string;
  /** Reminders, hours before the time: "24, 1" (up to two). */
  reminderLeadHours: string;
  noticeChannels: Channel[];
  /** Channels that tell owners how it went, after the change. */
  doneChannels: DoneChannel[];
  noticeSubject: string;
  noticeBody: string;
  /** "Roll out in waves" is ticked (off: one wave, every instance at once). */
  wavesOn: boolean;
  waves: WaveRow[];
  /** The health gate's limits between waves, percent as typed. */
  gate: { maxFailedPercent: string; maxUnhealthyPercent: string };
  /** Leave out instances another action holds (the review's "skip those"). */
  skipPending: boolean;
  /** Whose view the review renders. */
  sampleOwner: string;
  /** The fingerprint of the review the admin saw; scheduling checks it. */
  reviewed: string;
}

/**
 * Why "Schedule" did nothing but refresh the review: what it would schedule
 * is no longer what the review showed. The page without JavaScript, the
 * island and the JSON answer all say it in these words.
 */
export const REVIEW_CHANGED =
  "The review changed: check it and press Schedule again.";

/** How many times an owner may postpone one change, at most (the schema's own limit, kept equal by a test). */
export const MAX_POSTPONES = 10;

/** An error pinned to a field (by the field's element id), in plain words. */
export interface FormError {
  field: string;
  message: string;
}

/** Element ids of the fields, which error links and `aria-describedby` point at. */
export const FIELD = {
  actionType: "f-action-restart",
  imageTag: "f-image-tag",
  targets: "f-targets",
  selectorTag: "f-selector-tag",
  scheduledAt: "f-scheduled-at",
  windowDeadline: "f-window-deadline",
  postponeUntil: "f-postpone-until",
  postponeTimes: "f-postpone-times",
  reason: "f-reason",
  lead: "f-lead",
  reminders: "f-reminders",
  done: "f-done-email",
  channels: "f-channel-email",
  subject: "f-subject",
  body: "f-body",
  pending: "review-pending",
  waves: "f-waves-on",
  gateFailed: "f-gate-failed",
  gateUnhealthy: "f-gate-unhealthy",
  form: "schedule-form",
} as const;

export const CHANNEL_LABELS: Record<Channel, string> = {
  email: "Email",
  webapp: "Workspace banner",
  mobile_push: "Mobile push",
};

export const EMPTY_MATCH: MatchFilter = {
  q: "",
  tag: "",
  owner: "",
  status: "",
};

/** What a fresh form holds. */
export function defaultFormValues(
  over: Partial<ScheduleFormValues> = {},
): ScheduleFormValues {
  return {
    actionType: "scheduled_restart",
    imageTag: "",
    overridePins: false,
    targets: "ids",
    instanceIds: [],
    instanceIdsText: "",
    selectorTag: "",
    match: { ...EMPTY_MATCH },
    when: "at",
    scheduledAt: "",
    windowDeadline: "",
    postpone: "no",
    postponeUntil: "",
    postponeTimes: "2",
    timeZone: "UTC",
    reason: "",
    notify: true,
    noticeLeadHours: "24",
    reminderLeadHours: "",
    noticeChannels: [...CHANNELS],
    doneChannels: [],
    noticeSubject: "",
    noticeBody: "",
    wavesOn: false,
    waves: WAVE_PRESETS[0].rows.map((r) => ({ ...r })),
    gate: { ...DEFAULT_GATE },
    skipPending: false,
    sampleOwner: "",
    reviewed: "",
    ...over,
  };
}

/** Words for the filters of an "all matching" selection: "tag 2026.11.1, running, “maya”". */
export function describeMatch(m: MatchFilter, ownerName?: string): string {
  const parts = [
    m.q && `“${m.q}”`,
    m.tag && `tag ${m.tag}`,
    m.owner && `owner ${ownerName ?? m.owner}`,
    m.status && m.status,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "every instance";
}

/** "America/New_York (EST)", or "UTC": the zone named beside the time field. */
export function zoneLabel(zone: string, now: number): string {
  return zone === UTC ? UTC : `${zone} (${zoneAbbreviation(now, zone)})`;
}

/** What the time field means, under it: "= Tue, Dec 1, 2026, 14:15 UTC · in 2 h 13 min". */
export function timeHint(wall: string, zone: string, now: number): string {
  if (!wall) return "";
  const at = fromZonedInput(wall, zone);
  if (!at.ok) {
    return at.reason === "skipped"
      ? "That time does not exist here: the clocks go forward then."
      : "";
  }
  const twice = at.ambiguous
    ? " · this time happens twice (the clocks go back); the first one is meant"
    : "";
  return `= ${formatDateTime(at.ms, UTC)} · ${
    formatRelative(at.ms, now)
  }${twice}`;
}

/** A chosen instance as the form lists it. */
export interface InstanceChoice {
  id: string;
  name: string;
  owner: string;
  imageTag: string;
  pinnedImageTag: string | null;
  status: string;
}

/** An "all matching" selection: how many, which filters, the first few names. */
export interface MatchSummary {
  count: number;
  description: string;
  names: string[];
}

/** One row of the instance picker on the admin home page. */
export interface PickerRow {
  id: string;
  name: string;
  owner: string;
  imageTag: string;
  openclawVersion: string | null;
  pinnedImageTag: string | null;
  status: string;
  pending:
    | {
      actionId: string;
      label: string;
      /** The time of this instance's own wave. */
      scheduledAt: string | null;
      /** The rollout is paused: that time will not happen. */
      paused?: boolean;
    }
    | null;
}
