/**
 * The schedule form on the server: reads what was posted, turns it into the
 * API's schedule body — the wall-clock time in its zone becomes the instant
 * it names, an "all matching" selection becomes its instances — and checks
 * it with the API's own schema. Every problem comes back pinned to its field,
 * in plain words.
 */
import type { Issue } from "../errors.ts";
import { matchingInstanceIds } from "../kv/instances.ts";
import { isId } from "../ids.ts";
import {
  defaultScheduleTime,
  fromZonedInput,
  isTimeZone,
  toZonedInput,
  zoneOrUtc,
} from "../format.ts";
import { type Channel, CHANNELS } from "../types.ts";
import { HOUR_MS } from "../due_times.ts";
import {
  MAX_TARGETS,
  type ScheduleInput,
  ScheduleInputSchema,
} from "../scheduler/schemas.ts";
import { MAX_WAVES } from "../scheduler/waves.ts";
import {
  DEFAULT_GATE,
  defaultFormValues,
  describeMatch,
  DONE_CHANNELS,
  type DoneChannel,
  FIELD,
  type FormError,
  type MatchFilter,
  NEW_WAVE,
  type ScheduleFormValues,
  WAVE_PRESETS,
  waveField,
  type WaveRow,
} from "./form_model.ts";
import { zodIssues } from "../errors.ts";
import {
  imageTagIssues,
  scheduledAtIssues,
} from "../scheduler/schedule_checks.ts";

const str = (form: FormData, name: string) => {
  const v = form.get(name);
  return typeof v === "string" ? v : "";
};

/** The posted wave rows, in their order on the form (a removed row leaves a gap). */
function readWaves(form: FormData): WaveRow[] {
  const rows: WaveRow[] = [];
  for (let i = 0; i < MAX_WAVES + 1; i++) {
    if (!form.has(`waves.${i}.kind`)) continue;
    const kind = str(form, `waves.${i}.kind`);
    rows.push({
      kind: kind === "count" || kind === "canary" ? kind : "percent",
      amount: str(form, `waves.${i}.amount`).trim(),
      instanceIds: str(form, `waves.${i}.instanceIds`),
      soakMinutes: str(form, `waves.${i}.soakMinutes`).trim(),
    });
  }
  return rows;
}

/**
 * The waves' own buttons, for a browser without JavaScript (the island does
 * the same in place): a preset, one more wave, one fewer.
 */
export function applyWaveIntent(v: ScheduleFormValues, intent: string): void {
  const preset = /^waves-preset-(.+)$/.exec(intent)?.[1];
  const found = WAVE_PRESETS.find((p) => p.id === preset);
  if (found) {
    v.wavesOn = true;
    v.waves = found.rows.map((r) => ({ ...r }));
  } else if (intent === "add-wave" && v.waves.length < MAX_WAVES) {
    v.wavesOn = true;
    v.waves = [...v.waves, { ...NEW_WAVE }];
  } else if (intent.startsWith("remove-wave-")) {
    const i = Number(intent.slice("remove-wave-".length));
    if (v.waves.length > 1) v.waves = v.waves.filter((_, j) => j !== i);
  }
  // Only the first wave may be hand-picked.
  v.waves = v.waves.map((w, i) =>
    i > 0 && w.kind === "canary" ? { ...w, kind: "percent" } : w
  );
}

/** The posted form as the admin filled it in (nothing checked yet). */
export function readScheduleForm(form: FormData): ScheduleFormValues {
  const channels = form.getAll("noticeChannels").map(String)
    .filter((c): c is Channel => (CHANNELS as string[]).includes(c));
  const targets = str(form, "targets");
  return defaultFormValues({
    actionType: str(form, "actionType") === "version_change"
      ? "version_change"
      : "scheduled_restart",
    imageTag: str(form, "imageTag").trim(),
    overridePins: form.has("overridePins"),
    targets: targets === "tag" || targets === "match" ? targets : "ids",
    instanceIds: [
      ...new Set(
        form.getAll("instanceId").map((v) => String(v).trim()).filter(Boolean),
      ),
    ],
    instanceIdsText: str(form, "instanceIdsText"),
    selectorTag: str(form, "selectorTag").trim(),
    match: {
      q: str(form, "match.q"),
      tag: str(form, "match.tag"),
      owner: str(form, "match.owner"),
      status: str(form, "match.status"),
    },
    when: str(form, "when") === "now"
      ? "now"
      : str(form, "when") === "windows"
      ? "windows"
      : "at",
    scheduledAt: str(form, "scheduledAt").trim(),
    windowDeadline: str(form, "windowDeadline").trim(),
    postpone: str(form, "postpone") === "yes" ? "yes" : "no",
    postponeUntil: str(form, "postponeUntil").trim(),
    postponeTimes: str(form, "postponeTimes").trim(),
    timeZone: str(form, "timeZone").trim() || "UTC",
    reason: str(form, "reason"),
    notify: form.has("notify"),
    noticeLeadHours: str(form, "noticeLeadHours").trim(),
    reminderLeadHours: str(form, "reminderLeadHours").trim(),
    noticeChannels: channels,
    doneChannels: form.getAll("doneChannels").map(String)
      .filter((c): c is DoneChannel => (DONE_CHANNELS as string[]).includes(c)),
    noticeSubject: str(form, "noticeSubject"),
    noticeBody: str(form, "noticeBody"),
    wavesOn: form.has("wavesOn"),
    ...(form.has("waves.0.kind") ? { waves: readWaves(form) } : {}),
    gate: {
      maxFailedPercent: form.has("gate.maxFailedPercent")
        ? str(form, "gate.maxFailedPercent").trim()
        : DEFAULT_GATE.maxFailedPercent,
      maxUnhealthyPercent: form.has("gate.maxUnhealthyPercent")
        ? str(form, "gate.maxUnhealthyPercent").trim()
        : DEFAULT_GATE.maxUnhealthyPercent,
    },
    skipPending: form.has("skipPending"),
    sampleOwner: str(form, "sampleOwner"),
    reviewed: str(form, "reviewed"),
  });
}

/**
 * A fresh form. Its time leaves the whole notice lead and an hour more (the
 * next quarter hour after), so its first review has owners warned the full
 * lead ahead rather than at once.
 */
export function freshScheduleForm(
  now: number,
  timeZone: string | null,
  over: Partial<ScheduleFormValues> = {},
): ScheduleFormValues {
  const zone = zoneOrUtc(timeZone);
  const lead = Number(
    over.noticeLeadHours ?? defaultFormValues().noticeLeadHours,
  );
  return defaultFormValues({
    scheduledAt: toZonedInput(
      defaultScheduleTime(now, (lead + 1) * HOUR_MS),
      zone,
    ),
    timeZone: zone,
    ...over,
  });
}

/** Ids pasted into the "add by id" box. */
export function pastedIds(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

/** Where a schema or domain issue's path puts it on the form, and what the field is called there. */
const FIELDS: Record<string, [field: string, label: string]> = {
  actionType: [FIELD.actionType, "The action"],
  imageTag: [FIELD.imageTag, "The new version"],
  instanceIds: [FIELD.targets, "The instances"],
  selector: [FIELD.selectorTag, "The image tag"],
  scheduledAt: [FIELD.scheduledAt, "The time"],
  "timing.notBefore": [FIELD.scheduledAt, "The earliest time"],
  "timing.deadline": [FIELD.windowDeadline, "The latest time"],
  timing: [FIELD.windowDeadline, "The maintenance windows choice"],
  "ownerMayPostpone.times": [FIELD.postponeTimes, "The number of postpones"],
  ownerMayPostpone: [FIELD.postponeUntil, "The postpone limit"],
  reason: [FIELD.reason, "The reason"],
  noticeLeadHours: [FIELD.lead, "The hours of notice"],
  reminderLeadHours: [FIELD.reminders, "The reminders"],
  doneChannels: [FIELD.done, "The done notice"],
  noticeSubject: [FIELD.subject, "The email subject"],
  noticeBody: [FIELD.body, "The message"],
  noticeChannels: [FIELD.channels, "The channels"],
  overridePins: [FIELD.imageTag, "The pinned instances choice"],
  notify: [FIELD.lead, "The notify choice"],
  skipPending: [FIELD.pending, "The instances"],
};

function sentence(text: string): string {
  const t = text.trim();
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Where a wave's or the gate's issue goes: `waves.1.soakMinutes` → wave 2's soak field. */
function rolloutField(path: string): [field: string, label: string] | null {
  const wave = /^waves(?:\.(\d+)(?:\.(\w+))?)?/.exec(path);
  if (wave) {
    if (wave[1] === undefined) return [FIELD.waves, "The waves"];
    const i = Number(wave[1]);
    const part = wave[2];
    return part === "soakMinutes"
      ? [waveField(i, "soak"), `Wave ${i + 1}'s soak`]
      : part === "instanceIds"
      ? [waveField(i, "ids"), `Wave ${i + 1}'s instances`]
      : [waveField(i, "amount"), `Wave ${i + 1}'s size`];
  }
  if (path.startsWith("gate")) {
    return path.endsWith("maxUnhealthyPercent")
      ? [FIELD.gateUnhealthy, "The unhealthy limit"]
      : [FIELD.gateFailed, path === "gate" ? "The gate" : "The failed limit"];
  }
  return null;
}

/** An API issue (`{path, message}`) as the form says it: pinned to a field, a sentence, no paths. */
export function formErrorOf(issue: Issue): FormError {
  const rollout = rolloutField(issue.path);
  const [field, label] = rollout ?? FIELDS[issue.path] ??
    FIELDS[issue.path.split(".")[0]] ??
    [FIELD.form, "The form"];
  // zod and the domain say "must be …", "is in the past": put the field's name in front.
  const message =
    /^(must|is|are|matches|required|expected)\b/.test(issue.message)
      ? `${label} ${
        issue.message === "required" ? "is required" : issue.message
      }`
      // Several waves share their words: say whose it is.
      : rollout
      ? `${label}: ${issue.message}`
      : issue.message;
  return { field, message: sentence(message) };
}

export interface FormCheck {
  /** The API's schedule body, when the form holds one. */
  input: ScheduleInput | null;
  errors: FormError[];
  /** The form's time as the instant it names (for "apply now": the earliest allowed). */
  scheduledAtMs: number | null;
}

/**
 * Turns the form into the API's schedule body and checks it with the API's
 * schema. Problems of the form itself (an empty lead, a time the clocks skip)
 * are said first, in the form's words; the schema catches the rest.
 */
export async function checkScheduleForm(
  kv: Deno.Kv,
  v: ScheduleFormValues,
  ctx: {
    now: number;
    minAheadSeconds: number;
  },
): Promise<FormCheck> {
  const errors: FormError[] = [];
  const body: Record<string, unknown> = {
    actionType: v.actionType,
    overridePins: v.overridePins,
    reason: v.reason,
    notify: v.notify,
    noticeSubject: v.noticeSubject,
    noticeBody: v.noticeBody,
  };
  if (v.actionType === "version_change") {
    if (!v.imageTag) {
      errors.push({
        field: FIELD.imageTag,
        message: "Choose the version to change to.",
      });
    }
    body.imageTag = v.imageTag;
  }

  if (v.targets === "tag") {
    if (!v.selectorTag) {
      errors.push({
        field: FIELD.selectorTag,
        message: "Choose the image tag whose running instances to change.",
      });
    }
    body.selector = { imageTag: v.selectorTag };
  } else {
    const chosen = v.targets === "match"
      ? await matchingIds(kv, v.match)
      : [...new Set([...v.instanceIds, ...pastedIds(v.instanceIdsText)])];
    const ids = Array.isArray(chosen) ? chosen : chosen.ids;
    const count = Array.isArray(chosen) ? chosen.length : chosen.total;
    if (count === 0) {
      errors.push({
        field: FIELD.targets,
        message: v.targets === "match"
          ? `No instance matches ${describeMatch(v.match)} any more.`
          : "Choose at least one instance: tick them in the instances list, or add their ids.",
      });
    } else if (count > MAX_TARGETS) {
      errors.push({
        field: FIELD.targets,
        message: `${
          count.toLocaleString("en-US")
        } instances are chosen; one action takes at most ${
          MAX_TARGETS.toLocaleString("en-US")
        }.`,
      });
    }
    body.instanceIds = ids;
  }

  let scheduledAtMs: number | null = null;
  if (v.when === "now") {
    // A few seconds of slack so the check a moment later still sees it far enough ahead.
    scheduledAtMs =
      Math.ceil((ctx.now + ctx.minAheadSeconds * 1000 + 5000) / 60_000) *
      60_000;
  } else if (!v.scheduledAt) {
    errors.push({
      field: FIELD.scheduledAt,
      message: "Enter the date and time of the action.",
    });
  } else if (!isTimeZone(v.timeZone)) {
    errors.push({
      field: FIELD.scheduledAt,
      message: `The time zone “${v.timeZone}” is unknown; reload the page.`,
    });
  } else {
    const at = fromZonedInput(v.scheduledAt, v.timeZone);
    if (at.ok) scheduledAtMs = at.ms;
    else {
      errors.push({
        field: FIELD.scheduledAt,
        message: at.reason === "skipped"
          ? `${
            v.scheduledAt.replace("T", " ")
          } does not exist in ${v.timeZone}: the clocks go forward then. Choose another time.`
          : "Enter the date and time like 2026-12-01 09:00.",
      });
    }
  }
  body.scheduledAt = scheduledAtMs === null
    ? "2000-01-01T00:00:00Z"
    : new Date(scheduledAtMs).toISOString();
  ownerTimingBody(v, body, errors);

  const lead = v.noticeLeadHours;
  const leadOk = /^\d{1,3}$/.test(lead) && Number(lead) >= 1 &&
    Number(lead) <= 168;
  // "Apply now" tells owners as it is scheduled: the lead and reminders are
  // hidden then, and a lead that is fine is kept for a later move.
  if (v.notify && v.when !== "now" && !leadOk) {
    errors.push({
      field: FIELD.lead,
      message: lead === ""
        ? "Enter the hours of notice: a whole number from 1 to 168."
        : /^0+$/.test(lead)
        ? "A notice 0 hours ahead is due as the action starts, too late to send: give at least 1 hour, or choose “Apply now” to tell owners at once."
        : "The hours of notice must be a whole number from 1 to 168.",
    });
  }
  if (v.notify) {
    if (v.noticeChannels.length === 0) {
      errors.push({
        field: FIELD.channels,
        message:
          "Choose at least one channel, or turn off “Notify the owners”.",
      });
    }
  }
  body.noticeLeadHours = leadOk || (v.when !== "now" && /^\d{1,3}$/.test(lead))
    ? Number(lead)
    : 24;
  body.noticeChannels = v.notify && v.noticeChannels.length
    ? v.noticeChannels
    : [...CHANNELS];
  body.doneChannels = v.doneChannels;
  if (v.notify && v.when !== "now") {
    const reminders = pastedIds(v.reminderLeadHours);
    if (reminders.some((h) => !/^\d{1,3}$/.test(h))) {
      errors.push({
        field: FIELD.reminders,
        message:
          "Give each reminder as whole hours before the time, like “24, 1”.",
      });
    }
    body.reminderLeadHours = reminders.filter((h) => /^\d{1,3}$/.test(h))
      .map(Number);
  }

  if (v.wavesOn) Object.assign(body, wavesBody(v, errors));

  const parsed = ScheduleInputSchema.safeParse(body);
  const taken = new Set(errors.map((e) => e.field));
  const add = (issues: Issue[]) => {
    for (const e of issues.map(formErrorOf)) {
      if (!taken.has(e.field)) errors.push(e);
      taken.add(e.field);
    }
  };
  if (!parsed.success) add(zodIssues(parsed.error));
  // The review checks the time and the version when the rest is whole;
  // otherwise they are checked here, so every problem is said at once.
  if (errors.length) {
    if (scheduledAtMs !== null) {
      add(
        scheduledAtIssues(
          new Date(scheduledAtMs).toISOString(),
          ctx.now,
          ctx.minAheadSeconds,
        ).map((i) =>
          v.when === "windows" ? { ...i, path: "timing.notBefore" } : i
        ),
      );
    }
    if (v.actionType === "version_change" && v.imageTag) {
      add(await imageTagIssues(kv, v.imageTag));
    }
  }
  return {
    input: errors.length || !parsed.success ? null : parsed.data,
    errors,
    scheduledAtMs,
  };
}

/**
 * The waves and the gate as the API takes them. What is not a whole number
 * is said here, in the form's words; the schema judges the rest.
 */
function wavesBody(
  v: ScheduleFormValues,
  errors: FormError[],
): { waves: unknown[]; gate?: unknown } {
  const whole = (text: string) => /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  const waves = v.waves.map((w, i) => {
    const soak = w.soakMinutes === "" ? 0 : whole(w.soakMinutes);
    if (Number.isNaN(soak)) {
      errors.push({
        field: waveField(i, "soak"),
        message: `Wave ${
          i + 1
        }'s soak must be whole minutes, from 0 to 10080 (a week).`,
      });
    }
    if (w.kind === "canary") {
      return {
        instanceIds: pastedIds(w.instanceIds),
        soakMinutes: Number.isNaN(soak) ? 0 : soak,
      };
    }
    const amount = whole(w.amount);
    if (Number.isNaN(amount)) {
      errors.push({
        field: waveField(i, "amount"),
        message: w.kind === "percent"
          ? `Wave ${i + 1}'s share must be a whole percent from 1 to 100.`
          : `Wave ${i + 1}'s size must be a whole number of instances.`,
      });
    }
    return {
      [w.kind]: Number.isNaN(amount) ? 1 : amount,
      soakMinutes: Number.isNaN(soak) ? 0 : soak,
    };
  });
  if (waves.length < 2) return { waves };
  const limit = (text: string, field: string, what: string) => {
    const n = /^\d{1,3}(\.\d{1,2})?$/.test(text) ? Number(text) : NaN;
    if (Number.isNaN(n)) {
      errors.push({
        field,
        message: `The ${what} limit must be a percent from 0 to 100.`,
      });
    }
    return Number.isNaN(n) ? 0 : n;
  };
  return {
    waves,
    gate: {
      maxFailedPercent: limit(
        v.gate.maxFailedPercent,
        FIELD.gateFailed,
        "failed",
      ),
      maxUnhealthyPercent: limit(
        v.gate.maxUnhealthyPercent,
        FIELD.gateUnhealthy,
        "unhealthy",
      ),
    },
  };
}

/** A wall-clock time of the form's zone as an ISO instant, or the error pinned to its field. */
function zonedInstant(
  wall: string,
  zone: string,
  field: string,
  what: string,
  errors: FormError[],
): string | null {
  if (!wall) {
    errors.push({ field, message: `Enter ${what}.` });
    return null;
  }
  const at = fromZonedInput(wall, zone);
  if (at.ok) return new Date(at.ms).toISOString();
  errors.push({
    field,
    message: at.reason === "skipped"
      ? `${
        wall.replace("T", " ")
      } does not exist in ${zone}: the clocks go forward then. Choose another time.`
      : "Enter the date and time like 2026-12-01 09:00.",
  });
  return null;
}

/**
 * "In each owner's maintenance window, between … and …" becomes `timing`
 * (the time field is its notBefore); "Owners may postpone until …, at most N
 * times" becomes `ownerMayPostpone`.
 */
function ownerTimingBody(
  v: ScheduleFormValues,
  body: Record<string, unknown>,
  errors: FormError[],
) {
  const zone = isTimeZone(v.timeZone) ? v.timeZone : "UTC";
  if (v.when === "windows") {
    const deadline = zonedInstant(
      v.windowDeadline,
      zone,
      FIELD.windowDeadline,
      "the latest time, the end of the range the windows are looked for in",
      errors,
    );
    body.timing = {
      mode: "owner_window",
      notBefore: body.scheduledAt,
      deadline: deadline ?? body.scheduledAt,
    };
    delete body.scheduledAt;
  }
  if (v.postpone === "yes") {
    const until = zonedInstant(
      v.postponeUntil,
      zone,
      FIELD.postponeUntil,
      "the latest time owners may postpone to",
      errors,
    );
    const times = /^\d{1,2}$/.test(v.postponeTimes)
      ? Number(v.postponeTimes)
      : NaN;
    if (!Number.isFinite(times)) {
      errors.push({
        field: FIELD.postponeTimes,
        message:
          "Give how many times an owner may postpone: a whole number from 1 to 10.",
      });
    }
    if (until && Number.isFinite(times)) {
      body.ownerMayPostpone = { until, times };
    }
  }
}

/** The instances "all N matching" stands for: one more than an action takes at most, and the count. */
async function matchingIds(
  kv: Deno.Kv,
  m: MatchFilter,
): Promise<{ ids: string[]; total: number }> {
  // An owner that is no id owns nothing (and never reaches a KV key).
  if (m.owner && !isId(m.owner)) return { ids: [], total: 0 };
  return await matchingInstanceIds(kv, {
    query: m.q,
    tag: m.tag,
    ownerId: m.owner || undefined,
    status: m.status === "running" || m.status === "destroyed" ? m.status : "",
  }, MAX_TARGETS + 1);
}
